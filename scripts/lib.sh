# SPDX-License-Identifier: MIT
# scripts/lib.sh - shell helpers shared by scripts/demo.sh and
# scripts/test.sh (sourced, not run).  POSIX sh + bash-isms kept out.

# The repository root, whatever directory the caller ran us from.
pvio_root() {
	cd "$(dirname "$0")/.." && pwd
}

say() { printf '%s\n' "$*"; }
die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# Install the Debian packages pvio needs (scripts/deps.sh says which and
# why); needs root only when something is missing.
pvio_deps() {
	"$PVIO_ROOT/scripts/deps.sh" || die "installing packages failed (see above); run as root on Debian 12"
}

# Generate configure if it is missing or older than what it is made from.
pvio_autoreconf() {
	if [ ! -x "$PVIO_ROOT/configure" ] ||
		[ -n "$(find "$PVIO_ROOT" -maxdepth 3 \( -name configure.ac -o -name 'Makefile.am' -o -name 'Makefile.inc' \) -newer "$PVIO_ROOT/configure" -print 2>/dev/null | head -n 1)" ]; then
		(cd "$PVIO_ROOT" && autoreconf -fi) >"$PVIO_ROOT/autoreconf.log" 2>&1 ||
			{ tail -n 30 "$PVIO_ROOT/autoreconf.log" >&2; die "autoreconf failed (log: autoreconf.log)"; }
	fi
}

# pvio_build DIR [CONFIGURE ARGS...]: configure (once) and build out of tree
# in DIR, quietly; on failure show the tail of the log and stop.
pvio_build() {
	dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$PVIO_ROOT/configure" "$@") >"$dir/configure.out" 2>&1 ||
			{ tail -n 30 "$dir/configure.out" >&2; die "configure failed (log: $dir/configure.out, $dir/config.log)"; }
	fi
	make -C "$dir" -j2 >"$dir/make.out" 2>&1 ||
		{ grep -E 'error|Error' "$dir/make.out" | tail -n 30 >&2; die "build failed (log: $dir/make.out)"; }
}

# wait_for_socket PATH PID SECONDS: wait (bounded) until the process PID
# listens on the unix socket PATH; fails if PID exits first.
wait_for_socket() {
	_n=0
	while [ "$_n" -lt $(($3 * 20)) ]; do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
		_n=$((_n + 1))
	done
	return 1
}
