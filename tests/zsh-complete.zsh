# zsh -f zsh-complete.zsh FPATH_DIR LINE [DUMP] — prints, one a line, the matches zsh's completion
# offers when TAB is pressed at the end of LINE, in an interactive zsh (on a pseudo-terminal) that
# loads the completion functions in FPATH_DIR with compinit. DUMP: compinit's dump file, which
# saves it a second of scanning each time after the first.
zmodload zsh/zpty || exit 77
fpath_dir=$1
line=$2
dump=${3:-}
out=$(mktemp) || exit 1

zpty shell zsh -f -i
zpty -w shell "PROMPT='' RPROMPT=''"
zpty -w shell "fpath=(${(q)fpath_dir} \$fpath); autoload -U compinit; compinit -u ${${dump:+-d ${(q)dump}}:--D}"
# Each match that survives compadd's own filtering by what is typed goes to the file; once the
# completion is over, comppostfuncs prints a marker (spelt apart here, so the echo of this line
# does not match).
zpty -w shell "compadd() { local -a __hits; builtin compadd -O __hits \"\$@\"; builtin compadd \"\$@\";" \
    "(( \$#__hits )) && print -rl -- \$__hits >>${(q)out}; }"
zpty -w shell "__done() { print -r -- __complete''_done__; }; comppostfuncs=(__done)"
zpty -n -w shell "$line"$'\t'
zpty -r -m shell reply '*__complete_done__*' || exit 1
zpty -d shell
sort -u -- $out
rm -f -- $out
