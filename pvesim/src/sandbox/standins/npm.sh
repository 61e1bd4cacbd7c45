#!/bin/sh
# pvesim stand-in for npm. `npm install -g PKG[@VERSION]...` records PKG as
# /usr/local/lib/node_modules/PKG/package.json (npm's real global prefix); `npm ls -g` lists
# them; a local `npm install`/`npm ci` creates node_modules/. Other commands use the real npm
# when the host has one.
set -u
GLOBAL=/usr/local/lib/node_modules
cmd=""; global=0; pkgs=""
for a in "$@"; do
    case "$a" in
        -g|--global|--location=global) global=1 ;;
        -v|--version) [ -z "$cmd" ] && { echo "9.2.0"; exit 0; } ;;
        -*) ;;
        *) if [ -z "$cmd" ]; then cmd=$a; else pkgs="$pkgs $a"; fi ;;
    esac
done
case "$cmd" in
    install|i|add|ci)
        if [ $global -eq 1 ]; then
            n=0
            for spec in $pkgs; do
                case "$spec" in
                    @*/*@*) name=${spec%@*}; ver=${spec##*@} ;;
                    @*) name=$spec; ver=1.0.0 ;;
                    *@*) name=${spec%%@*}; ver=${spec#*@} ;;
                    *) name=$spec; ver=1.0.0 ;;
                esac
                mkdir -p "$GLOBAL/$name"
                printf '{"name":"%s","version":"%s"}\n' "$name" "$ver" > "$GLOBAL/$name/package.json"
                n=$((n + 1))
            done
            echo ""
            if [ "$n" -eq 1 ]; then echo "added 1 package in 1s"; else echo "added $n packages in 1s"; fi
        else
            mkdir -p node_modules
            echo ""
            echo "up to date, audited 1 package in 1s"
            echo ""
            echo "found 0 vulnerabilities"
        fi ;;
    uninstall|remove|rm|un)
        for p in $pkgs; do rm -rf "${GLOBAL:?}/$p"; done
        echo ""; echo "removed packages in 1s" ;;
    ls|list)
        if [ $global -eq 1 ]; then
            echo "/usr/local/lib"
            for f in "$GLOBAL"/*/package.json "$GLOBAL"/@*/*/package.json; do
                [ -f "$f" ] || continue
                sed -n 's/^{"name":"\([^"]*\)","version":"\([^"]*\)"}$/├── \1@\2/p' "$f"
            done
        else
            echo "$(pwd)"
            echo "└── (empty)"
        fi ;;
    *)
        if [ -x /usr/bin/npm ]; then exec /usr/bin/npm "$@"; fi
        echo "npm ERR! unknown command: $cmd" >&2; exit 1 ;;
esac
exit 0
