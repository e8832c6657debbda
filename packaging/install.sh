#!/usr/bin/env bash
# Installs this release of rpctl:   ./install.sh [PREFIX]        (PREFIX: /usr/local)
#
#   PREFIX/lib/rpctl/bin/rpctl, lib/   the launcher and its jars (it finds lib/ beside its bin/)
#   PREFIX/bin/rpctl                   a link to the launcher
#   PREFIX/share/man/man*/             the man pages, where man(1) looks
#   PREFIX/share/bash-completion/completions/rpctl, PREFIX/share/zsh/site-functions/_rpctl
#   PREFIX/lib/systemd/system/         the units and the reconcile timer, ExecStart= pointed at
#                                      PREFIX/bin/rpctl; nothing is enabled
#   PREFIX/share/doc/rpctl/            README.md, docs/, config.example.yaml, the cron example
#
# and then makes the class-data-sharing archive that shortens rpctl's start, for the JDK in use
# (JAVA_HOME, else java on PATH); run 'RPCTL_CDS=make rpctl' again after changing the JDK.
# DESTDIR=/stage ./install.sh /usr stages the files for a package instead: the archive is only
# valid at the final path, so the package's post-install step runs 'RPCTL_CDS=make /usr/bin/rpctl'.
# Nothing under /etc is written: the configuration, its secrets and the service user are the
# operator's (README, "Install").
set -euo pipefail
src="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
prefix="${1:-/usr/local}"
case "$prefix" in
  /*) ;;
  *) echo "install.sh: PREFIX must be an absolute path, got '$prefix'" >&2; exit 64 ;;
esac
prefix="${prefix%/}"
dest="${DESTDIR:-}$prefix"
home="$dest/lib/rpctl"

install -d "$home/bin" "$home/lib" "$dest/bin"
# a new release replaces the jars of the old one, none left behind on the class path
rm -f "$home/lib/"*.jar "$home/lib/rpctl.jsa"
install -m 0755 "$src/bin/rpctl" "$home/bin/rpctl"
install -m 0644 "$src/lib/"*.jar "$home/lib/"
ln -sfn "../lib/rpctl/bin/rpctl" "$dest/bin/rpctl"

for page in "$src"/man/man*/*; do
  [ -f "$page" ] || continue
  section="$(basename "$(dirname "$page")")"
  install -d "$dest/share/man/$section"
  install -m 0644 "$page" "$dest/share/man/$section/"
done

# bash-completion loads completions/NAME when NAME is first completed
for bash in "$src/completions/rpctl.bash" "$src/completions/rpctl"; do
  if [ -f "$bash" ]; then
    install -d "$dest/share/bash-completion/completions"
    install -m 0644 "$bash" "$dest/share/bash-completion/completions/rpctl"
    break
  fi
done
if [ -f "$src/completions/_rpctl" ]; then
  install -d "$dest/share/zsh/site-functions"
  install -m 0644 "$src/completions/_rpctl" "$dest/share/zsh/site-functions/_rpctl"
fi

install -d "$dest/lib/systemd/system"
for unit in "$src"/systemd/*; do
  sed "s|/usr/local/bin/rpctl|$prefix/bin/rpctl|g" "$unit" > "$dest/lib/systemd/system/$(basename "$unit")"
  chmod 0644 "$dest/lib/systemd/system/$(basename "$unit")"
done

install -d "$dest/share/doc/rpctl"
install -m 0644 "$src/README.md" "$src/config.example.yaml" "$src/cron/rpctl" "$dest/share/doc/rpctl/"
if [ -d "$src/docs" ]; then
  install -d "$dest/share/doc/rpctl/docs"
  install -m 0644 "$src/docs/"* "$dest/share/doc/rpctl/docs/"
fi

echo "install.sh: rpctl installed under $dest"
if [ -z "${DESTDIR:-}" ]; then
  RPCTL_CDS=make "$home/bin/rpctl" || echo "install.sh: rpctl runs without a class-data-sharing archive (it starts slower)" >&2
fi
