# bash completion for the perfkit programs.
# Options come from the programs themselves (--list-options prints the
# getopt_long table), so completion follows the code. Lines without a
# leading dash are subcommands, offered as the first word.

_perfkit()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} list opts subs
	list=$("$prog" --list-options 2>/dev/null) || return 0
	opts=$(printf '%s\n' "$list" | grep '^-')
	subs=$(printf '%s\n' "$list" | grep -v '^-')
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
	elif [[ $COMP_CWORD -eq 1 && -n $subs ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur") $(compgen -f -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
	return 0
}

complete -F _perfkit perf-sample perf-profile perf-qualityctl perf-alert \
    perf-bench rt-loop
