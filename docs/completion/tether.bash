# SPDX-License-Identifier: AGPL-3.0-or-later
# bash completion for tether (and scitex-tunnel)
_tether_ports() {
	local d
	for d in /etc/tether "${XDG_CONFIG_HOME:-$HOME/.config}/tether"; do
		[ -d "$d" ] && command ls "$d" 2>/dev/null | sed -n 's/^\([0-9]\{1,5\}\)\.conf$/\1/p'
	done
}

_tether() {
	local cur prev verb i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	verb=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) verb=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$verb" ]; then
		COMPREPLY=($(compgen -W "run setup status remove doctor metrics migrate list-python-apis trust bastion-line bastion-status mcp setup-tunnel remove-tunnel show-status --help --help-recursive --version" -- "$cur"))
		return
	fi
	case $prev in
	-s|--key|--secret-key|-c|--config|--known-hosts|--pidfile|--log-file|-F|--ssh-config)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--state-dir|--unit-dir|--textfile)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--host-key-policy)
		COMPREPLY=($(compgen -W "strict accept-new" -- "$cur")); return ;;
	-p|--port)
		case $verb in
		status|remove|remove-tunnel|show-status|doctor)
			COMPREPLY=($(compgen -W "$(_tether_ports)" -- "$cur")) ;;
		esac
		return ;;
	-o|--option)
		COMPREPLY=($(compgen -W "name= bastion= key= known_hosts= ssh_config= host_key= host_key_policy= forward= port= target= keepalive_interval= keepalive_count= backoff_initial= backoff_max= backoff_factor= stable_after= connect_timeout= target_connect_timeout= refused_retry_interval= stale_port_timeout= probe_interval= probe_timeout= max_channels= channel_window= exit_on_forward_failure=" -- "$cur"))
		compopt -o nospace 2>/dev/null
		return ;;
	esac
	local opts
	case $verb in
	run) opts="-J --jump -p --port -b --bastion -s --key --secret-key -t --target -R --remote -c --config --known-hosts -F --ssh-config -4 --ipv4 -6 --ipv6 --host-key-policy --host-key -n --name -o --option -v --verbose --check -d --daemon --pidfile --log-file --state-dir -h --help" ;;
	setup|setup-tunnel) opts="-J --jump -p --port -b --bastion -s --secret-key --key -t --target --known-hosts --host-key-policy --host-key --run-as --user -n --dry-run --no-start --wait -h --help" ;;
	doctor) opts="-J --jump -p --port --user -c --config -b --bastion -s --secret-key --key -t --target -R --remote --known-hosts -F --ssh-config -4 --ipv4 -6 --ipv6 --host-key-policy --host-key -n --name -o --option -v --verbose --state-dir -h --help" ;;
	migrate) opts="-n --dry-run -y --yes --unit-dir --wait --run-as -h --help" ;;
	list-python-apis) opts="-v --verbose -h --help" ;;
	metrics) opts="--textfile -h --help" ;;
	status|show-status) opts="-p --port --json -w --watch --user --system -h --help" ;;
	remove|remove-tunnel) opts="-p --port --user -n --dry-run -h --help" ;;
	trust) opts="-b --bastion -J --jump -s --key --known-hosts -y --yes -p --port --user -h --help" ;;
	bastion-line) opts="-p --port -R --remote -s --secret-key --key -h --help" ;;
	bastion-status) opts="--json --metrics -h --help" ;;
	mcp) opts="start list-tools --help" ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _tether tether scitex-tunnel
