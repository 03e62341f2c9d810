# Sourced by scripts/demo and scripts/test: make sure the system packages, the virtualenv and the
# project are installed. Usage: bootstrap_env MODE   (MODE: "wheel" = pip install .,  "dev" = -e .[test,cluster],
# "mutation" = -e .[test,mutation])
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROUTESIM_VENV:-$ROOT/.venv}"

say() { printf 'routesim: %s\n' "$*" >&2; }

pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  say "Python 3.11 or newer is needed (found: $(python3 --version 2>&1 || echo none))"; return 1
}

apt_install() {
  # Debian/Ubuntu: install the named packages when we may (root, or sudo without a password).
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      say "missing system packages: $*; install them with: sudo apt-get install -y $*"; return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: $* (no apt-get here; install them with your package manager)"; return 1
  fi
  say "installing system packages: $*"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null
}

ensure_system_packages() {
  local py="$1" need=()
  # Debian splits venv/ensurepip into python3.X-venv.
  if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    local ver; ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if apt-cache show "python${ver}-venv" >/dev/null 2>&1; then need+=("python${ver}-venv"); else need+=(python3-venv); fi
  fi
  # The BlueZ tests run a private dbus-daemon of their own.
  if ! command -v dbus-daemon >/dev/null 2>&1; then
    # Debian 12+ ships the daemon as dbus-daemon; older releases only as part of dbus.
    if apt-cache show dbus-daemon >/dev/null 2>&1; then need+=(dbus-daemon); else need+=(dbus); fi
  fi
  # The tests under tests/pipewire run the real audio stack (PipeWire, its Bluetooth plugin, WirePlumber,
  # pipewire-pulse and pactl) against the fake bluetoothd. ROUTESIM_SKIP_PIPEWIRE=1 skips them instead.
  # Wanted, not required: without them only those tests fail, with the apt-get line to run.
  local audio=()
  if [ "${ROUTESIM_SKIP_PIPEWIRE:-}" != 1 ]; then
    command -v pipewire >/dev/null 2>&1 && command -v pw-play >/dev/null 2>&1 || audio+=(pipewire)
    command -v wireplumber >/dev/null 2>&1 || audio+=(wireplumber)
    command -v pipewire-pulse >/dev/null 2>&1 || audio+=(pipewire-pulse)
    command -v pactl >/dev/null 2>&1 && command -v paplay >/dev/null 2>&1 || audio+=(pulseaudio-utils)
    compgen -G "/usr/lib/*/spa-0.2/bluez5/libspa-bluez5.so" >/dev/null || audio+=(libspa-0.2-bluetooth)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    apt_install "${need[@]}" ${audio[@]+"${audio[@]}"}
  elif [ ${#audio[@]} -gt 0 ]; then
    apt_install "${audio[@]}" || say "without ${audio[*]} the tests under tests/pipewire fail (ROUTESIM_SKIP_PIPEWIRE=1 skips them)"
  fi
}

bootstrap_env() {
  local mode="$1" py stamp want
  py="$(pick_python)"
  ensure_system_packages "$py"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtualenv in $VENV"
    "$py" -m venv "$VENV"
  fi
  stamp="$VENV/.routesim-installed"
  want="$mode $(cat "$ROOT/pyproject.toml" "$ROOT/scripts/constraints.txt" | sha256sum | cut -c1-16)"
  if [ "$mode" = wheel ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing routesim ($mode) and its dependencies"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip </dev/null
    if [ "$mode" = dev ]; then
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/scripts/constraints.txt" -e "$ROOT[test,cluster]" </dev/null
    elif [ "$mode" = mutation ]; then
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/scripts/constraints.txt" -e "$ROOT[test,mutation]" </dev/null
    else
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/scripts/constraints.txt" "$ROOT" </dev/null
    fi
    echo "$want" > "$stamp"
  fi
}
