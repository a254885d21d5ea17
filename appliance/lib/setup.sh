# Shared by appliance/run and appliance/test: install what is missing, and nothing else.
# Sourced, not run.

# Runs a command as root (directly, or through sudo when not root).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt PACKAGE...: installs the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}" >&2
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# ensure_python_module MODULE PACKAGE: makes `python3 -c "import MODULE"` work.
ensure_python_module() {
    local module=$1 package=$2
    python3 -c "import $module" 2>/dev/null && return 0
    echo "installing python package: $package" >&2
    python3 -m pip install --quiet "$package" 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages "$package" 2>/dev/null \
        || ensure_apt "python3-$package"
    python3 -c "import $module"
}

# The system libraries the build links (DESIGN.md §4).
ensure_build_dependencies() {
    command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6 toolchain required)" >&2; exit 1; }
    ensure_apt libzstd-dev libcurl4-openssl-dev libsqlite3-dev pkg-config
}
