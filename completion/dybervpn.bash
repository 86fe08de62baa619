# bash completion for dybervpn(8): subcommands, interface names (running
# ones from the control sockets, configured ones from /etc/dybervpn) and
# each subcommand's options.
# shellcheck shell=bash

_dybervpn_running() {
	local f
	for f in /var/run/wireguard/*.sock; do
		[ -e "$f" ] || continue
		f=${f##*/}
		printf '%s\n' "${f%.sock}"
	done
}

_dybervpn_configured() {
	local f
	for f in /etc/dybervpn/*.toml; do
		[ -e "$f" ] || continue
		f=${f##*/}
		printf '%s\n' "${f%.toml}"
	done
}

_dybervpn() {
	local cur prev cmd words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	local commands="up down reload set status metrics check genkey pubkey benchmark version help"

	if [ "$cword" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
		return
	fi
	cmd=${words[1]}
	case $prev in
	-c | --config)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	-m | --mode)
		mapfile -t COMPREPLY < <(compgen -W "classic hybrid pqonly" -- "$cur")
		return
		;;
	-u | --user)
		mapfile -t COMPREPLY < <(compgen -u -- "$cur")
		return
		;;
	-n) return ;;
	esac
	case $cmd in
	up)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "-c --config -f --foreground -v --verbose -u --user --no-sandbox -h --help" -- "$cur")
		else
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -W "$(_dybervpn_configured)" -f -- "$cur")
		fi
		;;
	down | reload)
		[ "$cword" -eq 2 ] &&
			mapfile -t COMPREPLY < <(compgen -W "$(_dybervpn_running) -h --help" -- "$cur")
		;;
	set)
		if [ "$cword" -eq 2 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_dybervpn_running) -h --help" -- "$cur")
			return
		fi
		case $prev in
		private-key | preshared-key | mldsa-public-key)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
			;;
		mode)
			mapfile -t COMPREPLY < <(compgen -W "classic hybrid pqonly" -- "$cur")
			return
			;;
		persistent-keepalive | fwmark)
			mapfile -t COMPREPLY < <(compgen -W "off" -- "$cur")
			return
			;;
		peer | listen-port | endpoint | allowed-ips) return ;;
		esac
		local w in_peer=0
		for w in "${words[@]:3:cword-3}"; do [ "$w" = peer ] && in_peer=1; done
		if [ "$in_peer" = 1 ]; then
			mapfile -t COMPREPLY < <(compgen -W "peer remove preshared-key endpoint persistent-keepalive allowed-ips mode mldsa-public-key" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "listen-port fwmark private-key peer" -- "$cur")
		fi
		;;
	status)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--json -h --help" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_dybervpn_running)" -- "$cur")
		fi
		;;
	metrics)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "-h --help" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_dybervpn_running)" -- "$cur")
		fi
		;;
	check)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "-c --config -h --help" -- "$cur")
		else
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -W "$(_dybervpn_configured)" -f -- "$cur")
		fi
		;;
	genkey) mapfile -t COMPREPLY < <(compgen -W "-m --mode -h --help" -- "$cur") ;;
	pubkey) mapfile -t COMPREPLY < <(compgen -W "--mldsa -h --help" -- "$cur") ;;
	benchmark) mapfile -t COMPREPLY < <(compgen -W "-n -h --help" -- "$cur") ;;
	version) mapfile -t COMPREPLY < <(compgen -W "-h --help" -- "$cur") ;;
	esac
}

complete -F _dybervpn dybervpn
