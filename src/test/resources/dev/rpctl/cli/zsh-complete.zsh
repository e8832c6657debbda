# zsh -f zsh-complete.zsh FPATH_DIR KEYS SHOWN [KEYS SHOWN]...
# Starts an interactive zsh whose fpath begins with FPATH_DIR, with rpctl a function that prints
# its arguments; types each KEYS (Tab included), waits until SHOWN is on the screen, then presses
# Enter and prints the arguments the completed command line gave rpctl.
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -U compinit && compinit -u -D; rpctl() { print -r -- \"RES\"\"ULT<\$*>\" }"
shift
while (( $# >= 2 )); do
  zpty -w -n z "$1"
  zpty -r z seen "*$2*"
  shift 2
done
zpty -w -n z $'\r'
zpty -r z line '*RESULT<*>*'
line=${line##*RESULT<}
print -r -- "${line%%>*}"
zpty -d z
