#!/bin/sh
# pvesim stand-in for apt-get and apt. Installed packages are recorded as files
# /var/lib/dpkg-sim/installed/PKG (content: the version). A few well-known packages install a
# systemd unit, declare its ports in /etc/pvesim/ports/UNIT.ports and start it, as Debian does:
# nginx (80), apache2 (80), redis-server (6379), postgresql (5432), mariadb-server (3306).
# A package named pvesim-missing-* or listed in /etc/pvesim/apt-missing "cannot be located".
set -u
DB=/var/lib/dpkg-sim/installed
VENDOR=/usr/local/lib/systemd/system
mkdir -p "$DB" "$VENDOR" /etc/pvesim/ports /var/lib/pvesim/systemd/enabled /var/lib/pvesim/systemd/active

me=$(basename "$0")
if [ "$me" = apt ]; then
    printf '\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n' >&2
fi

cmd=""; pkgs=""
while [ $# -gt 0 ]; do
    case "$1" in
        -o|-c|-t|--option|--config-file|--target-release) shift ;;
        -*) ;;
        *) if [ -z "$cmd" ]; then cmd=$1; else pkgs="$pkgs $1"; fi ;;
    esac
    shift
done

version_of() {
    case "$1" in
        nginx|nginx-*) echo "1.22.1-9+deb12u3" ;;
        apache2) echo "2.4.62-1~deb12u2" ;;
        redis-server|redis) echo "5:7.0.15-1~deb12u4" ;;
        postgresql) echo "15+248" ;;
        mariadb-server|default-mysql-server|mysql-server) echo "1:10.11.11-0+deb12u1" ;;
        nodejs) echo "18.19.0+dfsg-6~deb12u2" ;;
        npm) echo "9.2.0~ds1-1" ;;
        python3|python3-pip) echo "3.11.2-1+b1" ;;
        curl|libcurl4) echo "7.88.1-10+deb12u12" ;;
        git) echo "1:2.39.5-0+deb12u2" ;;
        *) echo "1.0.0-1" ;;
    esac
}

unit() { # unit NAME DESCRIPTION EXEC
    [ -f "$VENDOR/$1" ] || printf '[Unit]\nDescription=%s\nAfter=network.target\n\n[Service]\nType=simple\nExecStart=%s\n\n[Install]\nWantedBy=multi-user.target\n' "$2" "$3" > "$VENDOR/$1"
    # as the package's maintainer script does (deb-systemd-helper enable, deb-systemd-invoke start)
    systemctl enable --now "$1" >/dev/null 2>&1
}

ports() { # ports UNIT LINE...
    u=$1; shift
    [ -f "/etc/pvesim/ports/$u.ports" ] || printf '%s\n' "$@" > "/etc/pvesim/ports/$u.ports"
}

setup_nginx() {
    mkdir -p /etc/nginx/sites-available /etc/nginx/sites-enabled /etc/nginx/conf.d /var/www/html /var/log/nginx
    [ -f /etc/nginx/nginx.conf ] || printf 'user www-data;\nworker_processes auto;\npid /run/nginx.pid;\nevents { worker_connections 768; }\nhttp {\n\tinclude /etc/nginx/conf.d/*.conf;\n\tinclude /etc/nginx/sites-enabled/*;\n}\n' > /etc/nginx/nginx.conf
    [ -f /etc/nginx/sites-available/default ] || printf 'server {\n\tlisten 80 default_server;\n\tlisten [::]:80 default_server;\n\troot /var/www/html;\n\tindex index.html index.htm index.nginx-debian.html;\n\tserver_name _;\n}\n' > /etc/nginx/sites-available/default
    [ -e /etc/nginx/sites-enabled/default ] || ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default
    [ -f /var/www/html/index.nginx-debian.html ] || printf '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>\n' > /var/www/html/index.nginx-debian.html
    cat > /usr/local/sbin/nginx <<'EOF'
#!/bin/sh
# pvesim stand-in for the nginx binary (installed by apt-get install nginx).
case "${1:-}" in
    -t|-T) echo "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok" >&2
           echo "nginx: configuration file /etc/nginx/nginx.conf test is successful" >&2 ;;
    -v) echo "nginx version: nginx/1.22.1" >&2 ;;
    -s) exec systemctl "${2:-reload}" nginx ;;
esac
exit 0
EOF
    chmod 755 /usr/local/sbin/nginx
    ports nginx.service "0.0.0.0:80 nginx" "[::]:80 nginx"
    unit nginx.service "A high performance web server and a reverse proxy server" "/usr/sbin/nginx -g 'daemon on; master_process on;'"
}

setup() {
    case "$1" in
        nginx|nginx-light|nginx-full|nginx-core) setup_nginx ;;
        apache2)
            mkdir -p /etc/apache2/sites-available /etc/apache2/sites-enabled /var/www/html /var/log/apache2
            [ -f /var/www/html/index.html ] || echo "<html><body><h1>It works!</h1></body></html>" > /var/www/html/index.html
            ports apache2.service "*:80 apache2"
            unit apache2.service "The Apache HTTP Server" "/usr/sbin/apachectl start" ;;
        redis-server|redis)
            mkdir -p /etc/redis /var/lib/redis
            ports redis-server.service "127.0.0.1:6379 redis-server" "[::1]:6379 redis-server"
            unit redis-server.service "Advanced key-value store" "/usr/bin/redis-server /etc/redis/redis.conf" ;;
        postgresql)
            mkdir -p /etc/postgresql/15/main /var/lib/postgresql/15/main
            ports postgresql.service "127.0.0.1:5432 postgres"
            unit postgresql.service "PostgreSQL RDBMS" "/bin/true" ;;
        mariadb-server|default-mysql-server|mysql-server)
            mkdir -p /etc/mysql /var/lib/mysql
            ports mariadb.service "127.0.0.1:3306 mariadbd"
            unit mariadb.service "MariaDB 10.11.11 database server" "/usr/sbin/mariadbd" ;;
        cron) unit cron.service "Regular background program processing daemon" "/usr/sbin/cron -f" ;;
        docker.io) unit docker.service "Docker Application Container Engine" "/usr/bin/dockerd" ;;
        fail2ban) unit fail2ban.service "Fail2Ban Service" "/usr/bin/fail2ban-server -xf start" ;;
    esac
}

unit_of() {
    case "$1" in
        nginx|nginx-*) echo nginx.service ;;
        apache2) echo apache2.service ;;
        redis-server|redis) echo redis-server.service ;;
        postgresql) echo postgresql.service ;;
        mariadb-server|default-mysql-server|mysql-server) echo mariadb.service ;;
        cron) echo cron.service ;;
        docker.io) echo docker.service ;;
        fail2ban) echo fail2ban.service ;;
    esac
}

teardown() {
    u=$(unit_of "$1")
    [ -n "$u" ] || return 0
    rm -f "/var/lib/pvesim/systemd/enabled/$u" "/var/lib/pvesim/systemd/active/$u" "$VENDOR/$u"
    if [ "$cmd" = purge ]; then rm -f "/etc/pvesim/ports/$u.ports"; fi
}

missing() {
    case "$1" in pvesim-missing-*) return 0 ;; esac
    printf '%s\n' "$1" | grep -Eq '^[a-z0-9][a-z0-9+.-]+$' || return 0
    [ -f /etc/pvesim/apt-missing ] && grep -qx "$1" /etc/pvesim/apt-missing && return 0
    return 1
}

reading() {
    echo "Reading package lists..."
    echo "Building dependency tree..."
    echo "Reading state information..."
}

names() { for p in $pkgs; do p=${p%%=*}; p=${p%%/*}; printf '%s\n' "$p"; done; }

case "$cmd" in
    update)
        echo "Hit:1 http://deb.debian.org/debian bookworm InRelease"
        echo "Hit:2 http://deb.debian.org/debian bookworm-updates InRelease"
        echo "Hit:3 http://security.debian.org bookworm-security InRelease"
        reading; echo "All packages are up to date." ;;
    install|reinstall)
        reading
        [ -n "$pkgs" ] || { echo "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded."; exit 0; }
        for p in $(names); do
            if missing "$p"; then echo "E: Unable to locate package $p" >&2; exit 100; fi
        done
        new=""
        for p in $(names); do
            if [ -f "$DB/$p" ] && [ "$cmd" = install ]; then
                echo "$p is already the newest version ($(cat "$DB/$p"))."
            else
                new="$new $p"
            fi
        done
        n=$(printf '%s\n' $new | grep -c .)
        if [ "$n" -gt 0 ]; then
            echo "The following NEW packages will be installed:"
            echo " $new"
        fi
        echo "0 upgraded, $n newly installed, 0 to remove and 0 not upgraded."
        for p in $new; do
            v=$(version_of "$p")
            echo "Get:1 http://deb.debian.org/debian bookworm/main amd64 $p amd64 $v"
        done
        for p in $new; do
            v=$(version_of "$p")
            echo "Selecting previously unselected package $p."
            echo "Unpacking $p ($v) ..."
            echo "$v" > "$DB/$p"
            setup "$p"
            echo "Setting up $p ($v) ..."
        done ;;
    remove|purge|autoremove)
        reading
        for p in $(names); do
            if [ -f "$DB/$p" ]; then
                echo "Removing $p ($(cat "$DB/$p")) ..."
                rm -f "$DB/$p"; teardown "$p"
            else
                echo "Package '$p' is not installed, so not removed"
            fi
        done ;;
    upgrade|dist-upgrade|full-upgrade)
        reading; echo "Calculating upgrade... Done"
        echo "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded." ;;
    list)
        echo "Listing..."
        for f in "$DB"/*; do
            [ -f "$f" ] && echo "$(basename "$f")/stable,now $(cat "$f") amd64 [installed]"
        done ;;
    clean|autoclean|check|source|download|build-dep|-v|--version) ;;
    "") echo "E: No command given" >&2; exit 100 ;;
    *) echo "E: Invalid operation $cmd" >&2; exit 100 ;;
esac
exit 0
