# fish completion for the perfkit programs: options and subcommands come
# from the program's own --list-options.

function __perfkit_list
    set -l cmd (commandline -opc)[1]
    $cmd --list-options 2>/dev/null
end

function __perfkit_opts
    for o in (__perfkit_list | string match -- '-*')
        string replace -- '=' '' $o
    end
end

function __perfkit_subs
    __perfkit_list | string match -v -- '-*'
end

for prog in perf-sample perf-profile perf-qualityctl perf-alert perf-bench rt-loop
    complete -c $prog -f -n 'string match -q -- "-*" (commandline -ct)' -a '(__perfkit_opts)'
    complete -c $prog -f -n '__fish_is_first_arg' -a '(__perfkit_subs)'
    complete -c $prog -F
end
