#!/usr/bin/env zsh
# Prints what zsh's completion system offers for a command line, one candidate per line
# ("word -- description" when there is one), by typing the line and a Tab into an interactive zsh
# under zpty and capturing every compadd. The technique is zsh-capture-completion's
# (https://github.com/Valodim/zsh-capture-completion, MIT); this is a smaller rewrite for the tests.
#
# Usage: zsh-complete.zsh FUNCTION_DIR 'hookapply plan --fo'
# FUNCTION_DIR holds _hookapply; the working folder and PATH are the caller's.
zmodload zsh/zpty || exit 3
[[ -n $1 && -n $2 ]] || { print -u2 "usage: $0 FUNCTION_DIR LINE"; exit 64 }
local fdir=$1 typed=$2 setup=$(mktemp)
trap 'rm -f $setup; zpty -d capture 2>/dev/null' EXIT
cat > $setup <<SETUP
PROMPT=
fpath=(${(q)fdir} \$fpath)
autoload -U compinit && compinit -u -D
bindkey '^M' undefined
bindkey '^J' undefined
bindkey '^I' complete-word
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
zstyle ':completion:*' list-separator ''
zmodload zsh/zutil
__marker() { print -r -- \$'\\\\0MARK' }
compprefuncs=( __marker )
comppostfuncs=( __marker exit )
compadd() {
  # Calls that only collect (-O, -A, -D) are the completion system's own: pass them on.
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "\$@"; return \$?; fi
  typeset -a __hits __descriptions __tmp
  if (( \$@[(I)-d] )); then
    __tmp=\${@[\$[\${@[(i)-d]}+1]]}
    if [[ \$__tmp == \\(* ]]; then eval "__descriptions=\$__tmp"; else __descriptions=( "\${(@P)__tmp}" ); fi
  fi
  builtin compadd -A __hits -D __descriptions "\$@"
  local i
  for i in {1..\$#__hits}; do
    if (( \$#__descriptions >= i )); then
      print -r -- "\$__hits[i] -- \${\${__descriptions[i]}##\$__hits[i] #}"
    else
      print -r -- "\$__hits[i]"
    fi
  done
}
print ready
SETUP
zpty capture zsh -f -i
zpty -w capture "source ${(q)setup}"
local line
repeat 20; do
  zpty -r capture line || break
  [[ $line == ready* ]] && break
done
zpty -w capture "$typed"$'\t'
integer seen=0
while zpty -r capture line; do
  line=${line//$'\r'/}
  line=${line//$'\n'/}
  [[ -z $line ]] && continue
  if [[ $line == *MARK* ]]; then
    (( seen++ )) && exit 0
    continue
  fi
  (( seen )) && print -r -- "$line"
done
exit 2
