package app

// completionScript is the script of a shell (see completion.go for what
// __complete answers).
func completionScript(shell string) string {
	switch shell {
	case "bash":
		return bashCompletion
	case "zsh":
		return zshCompletion
	case "fish":
		return fishCompletion
	case "powershell":
		return powershellCompletion
	}
	return ""
}

// bash splits "--output=json" at "=" (COMP_WORDBREAKS), so the words are
// taken from the line up to the cursor, and a candidate after "=" is
// offered without what precedes it in the current word.
const bashCompletion = `# bash completion for devcluster.
# Load it with: source <(devcluster completion bash)
_devcluster() {
    local line="${COMP_LINE:0:COMP_POINT}" cur="" out directive
    local -a words lines
    read -r -a words <<<"$line"
    if [[ "$line" != *[[:space:]] && ${#words[@]} -gt 0 ]]; then
        cur="${words[${#words[@]}-1]}"
        unset 'words[${#words[@]}-1]'
    fi
    out=$("${words[0]}" __complete -- "${words[@]:1}" "$cur" 2>/dev/null) || return 0
    mapfile -t lines <<<"$out"
    directive="${lines[${#lines[@]}-1]}"
    unset 'lines[${#lines[@]}-1]'
    COMPREPLY=()
    local l value
    for l in "${lines[@]}"; do
        value="${l%%$'\t'*}"
        [[ "$cur" == *=* ]] && value="${value#*=}"
        COMPREPLY+=("$value")
    done
    case "$directive" in
    :files) compopt -o default 2>/dev/null ;;
    :dirs) compopt -o dirnames 2>/dev/null ;;
    esac
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _devcluster devcluster
`

const zshCompletion = `#compdef devcluster
# zsh completion for devcluster.
# Load it with: source <(devcluster completion zsh)
# (or save it as _devcluster in a directory of $fpath, before compinit).
_devcluster() {
    local -a lines cands
    local out directive l value help
    out="$(${words[1]} __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)" || return 1
    lines=("${(@f)out}")
    directive="${lines[-1]}"
    lines=("${(@)lines[1,-2]}")
    for l in "${lines[@]}"; do
        value="${l%%$'\t'*}"
        help="${l#*$'\t'}"
        [[ "$help" == "$l" ]] && help=""
        cands+=("${value//:/\\:}:${help}")
    done
    case "$directive" in
    :files) _files ;;
    :dirs) _files -/ ;;
    *) (( ${#cands} )) && _describe -t devcluster 'devcluster' cands ;;
    esac
}
if [[ "${funcstack[1]}" == _devcluster ]]; then
    _devcluster "$@"
else
    compdef _devcluster devcluster
fi
`

const fishCompletion = `# fish completion for devcluster.
# Load it with: devcluster completion fish | source
# (or save it as ~/.config/fish/completions/devcluster.fish).
function __devcluster_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete -- $tokens[2..-1] $cur 2>/dev/null)
    or return
    set -l directive $out[-1]
    set -e out[-1]
    switch $directive
        case :files
            __fish_complete_path $cur
        case :dirs
            __fish_complete_directories $cur
        case '*'
            printf '%s\n' $out
    end
end
complete -c devcluster -f -a '(__devcluster_complete)'
`

const powershellCompletion = `# PowerShell completion for devcluster.
# Load it with: devcluster completion powershell | Out-String | Invoke-Expression
# (or add that line to $PROFILE).
Register-ArgumentCompleter -Native -CommandName 'devcluster', 'devcluster.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @()
    foreach ($e in $commandAst.CommandElements) {
        if ($e.Extent.StartOffset -ge $cursorPosition) { break }
        $words += $e.Extent.Text
    }
    $program = $words[0]
    $before = @()
    if ($words.Count -gt 1) { $before = $words[1..($words.Count - 1)] }
    if ($wordToComplete -ne '' -and $before.Count -gt 0) {
        $before = if ($before.Count -gt 1) { $before[0..($before.Count - 2)] } else { @() }
    }
    $out = @(& $program __complete -- @before $wordToComplete 2>$null)
    if ($out.Count -eq 0) { return }
    $directive = $out[-1]
    $lines = if ($out.Count -gt 1) { $out[0..($out.Count - 2)] } else { @() }
    if ($directive -eq ':files' -or $directive -eq ':dirs') {
        return
    }
    foreach ($l in $lines) {
        $value, $help = $l -split "` + "`t" + `", 2
        if (-not $help) { $help = $value }
        [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $help)
    }
}
`
