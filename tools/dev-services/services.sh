#!/usr/bin/env bash
# Makes sure the services the tests talk to are up on 127.0.0.1, installing
# what this Debian host lacks: PostgreSQL (5432), MariaDB (3306), Redis (6379)
# and a throwaway OpenLDAP slapd (IM_TEST_LDAP_PORT, default 3890, StartTLS;
# IM_TEST_LDAPS_PORT, default 6360, ldaps) with suffix dc=identitymesh,dc=test,
# the accesslog overlay and a test CA at $IM_TEST_LDAP_DIR/tls/ca.pem
# (default /tmp/identitymesh-slapd/tls/ca.pem). Idempotent: whatever already
# runs and is current is left alone. Needs root for installs; prints one line
# per service.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

LDAP_PORT=${IM_TEST_LDAP_PORT:-3890}
LDAPS_PORT=${IM_TEST_LDAPS_PORT:-6360}
LDAP_DIR=${IM_TEST_LDAP_DIR:-/tmp/identitymesh-slapd}
LDAP_SUFFIX=${IM_TEST_LDAP_SUFFIX:-dc=identitymesh,dc=test}
LDAP_ADMIN_PW=${IM_TEST_LDAP_ADMIN_PASSWORD:-admin}
t0=$(date +%s)

wait_for() { # wait_for <seconds> <what> <command...>
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && { echo "ready: $what"; return 0; }; sleep 0.2; done
  echo "TIMEOUT waiting for $what" >&2; return 1
}

apt_updated=0
ensure_packages() {
  local need=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then echo "missing packages ${need[*]} and not root to install them" >&2; return 1; fi
  [ $apt_updated -eq 1 ] || { apt-get update -qq; apt_updated=1; }
  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "installed: ${need[*]}"
}

# --- PostgreSQL: the distribution's cluster "main" on 5432, trust on loopback.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  ensure_packages postgresql postgresql-client
  PGVER=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$PGVER main" || pg_createcluster "$PGVER" main >/dev/null
  pg_ctlcluster --skip-systemctl-redirect "$PGVER" main start 2>/dev/null || pg_ctlcluster "$PGVER" main start
fi
wait_for 30 "postgresql 127.0.0.1:5432" pg_isready -h 127.0.0.1 -p 5432
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  echo "postgresql: cannot log in as postgres on 127.0.0.1 without a password; set IM_TEST_PG_URL to an admin URL" >&2
fi

# --- MariaDB: root with an empty password on 127.0.0.1:3306.
if ! mariadb -h 127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; then
  ensure_packages mariadb-server mariadb-client
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1
fi
wait_for 60 "mariadb 127.0.0.1:3306" mariadb -h 127.0.0.1 -uroot -e 'select 1'

# --- Redis, keeping nothing on disk.
if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  ensure_packages redis-server redis-tools
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/identitymesh-tests.log
fi
wait_for 15 "redis 127.0.0.1:6379" sh -c "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"

# --- OpenLDAP: our own throwaway cn=config and databases, never the system's.
# Besides the directory (suffix $LDAP_SUFFIX) it carries what the LDAP
# connector's tests need: the accesslog overlay (cn=accesslog, delta imports
# that see deletes and renames), cn=Monitor (the server's clock), and TLS from
# a throwaway CA (ldaps:// on $LDAPS_PORT, StartTLS on $LDAP_PORT). A slapd
# that an older version of this script started lacks some of that: it is
# recognised (layout marker, accesslog, ldaps) and rebuilt, data included.
ensure_packages slapd ldap-utils openssl
case "$LDAP_DIR" in /|/tmp|/tmp/|'') echo "IM_TEST_LDAP_DIR must name a directory of its own, not '$LDAP_DIR'" >&2; exit 1 ;; esac
LDAP_ADMIN_DN="cn=admin,$LDAP_SUFFIX"
LDAP_CA_FILE="$LDAP_DIR/tls/ca.pem"
LDAP_LAYOUT=3 # bump whenever the slapd setup below changes, so running servers get rebuilt
# Layout 3: the accesslog may grow to 8 GiB (a sparse map, not disk taken) and keeps one day of writes, purged
# hourly: full-size benchmark exports write hundreds of thousands of entries, and a full accesslog silently
# stops logging, which the end-to-end tests read.

slapd_current() {
  [ "$(cat "$LDAP_DIR/layout" 2>/dev/null)" = "$LDAP_LAYOUT" ] &&
    ldapsearch -x -H "ldap://127.0.0.1:$LDAP_PORT" -b "$LDAP_SUFFIX" -s base dn &&
    ldapsearch -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW" -b cn=accesslog -s base dn &&
    LDAPTLS_CACERT="$LDAP_CA_FILE" LDAPTLS_REQCERT=demand ldapsearch -x -H "ldaps://127.0.0.1:$LDAPS_PORT" -b "$LDAP_SUFFIX" -s base dn &&
    LDAPTLS_CACERT="$LDAP_CA_FILE" LDAPTLS_REQCERT=demand ldapsearch -x -ZZ -H "ldap://127.0.0.1:$LDAP_PORT" -b "$LDAP_SUFFIX" -s base dn
}

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_our_slapd() {
  local pid
  pid=$(cat "$LDAP_DIR/slapd.pid" 2>/dev/null || true)
  # Only the slapd this script started (its pid file, its config directory) is stopped.
  if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-F $LDAP_DIR/slapd.d"; then
    echo "stopping slapd $pid (set up by an older version of this script or unhealthy) to rebuild it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { kill -9 "$pid" 2>/dev/null || true; sleep 0.2; }
  fi
  for port in "$LDAP_PORT" "$LDAPS_PORT"; do
    if port_answers "$port"; then
      echo "127.0.0.1:$port is taken by a process this script did not start; stop it or set IM_TEST_LDAP_PORT / IM_TEST_LDAPS_PORT" >&2
      return 1
    fi
  done
}

make_test_ca() { # a CA and a server certificate for 127.0.0.1 and localhost, valid for ten years
  local d="$LDAP_DIR/tls"
  mkdir -p "$d" && chmod 700 "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=IdentityMesh test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
  chmod 600 "$d/ca.key" "$d/server.key"
  chmod 644 "$d/ca.pem" "$d/server.pem"
}

if ! slapd_current >/dev/null 2>&1; then
  stop_our_slapd
  rm -rf "$LDAP_DIR"; mkdir -p "$LDAP_DIR/slapd.d" "$LDAP_DIR/data" "$LDAP_DIR/accesslog"
  make_test_ca
  cat > "$LDAP_DIR/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $LDAP_DIR/slapd.pid
olcArgsFile: $LDAP_DIR/slapd.args
olcSizeLimit: unlimited
olcTLSCACertificateFile: $LDAP_DIR/tls/ca.pem
olcTLSCertificateFile: $LDAP_DIR/tls/server.pem
olcTLSCertificateKeyFile: $LDAP_DIR/tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: accesslog

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $LDAP_DIR/accesslog
olcDbMaxSize: 8589934592
olcSuffix: cn=accesslog
olcSizeLimit: unlimited
olcDbIndex: default eq
olcDbIndex: objectClass,reqStart,reqEntryUUID eq
olcAccess: {0}to * by dn.exact="$LDAP_ADMIN_DN" read by * none

dn: olcDatabase={2}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {2}mdb
olcDbDirectory: $LDAP_DIR/data
olcDbMaxSize: 4294967296
olcSuffix: $LDAP_SUFFIX
olcRootDN: $LDAP_ADMIN_DN
olcRootPW: $(slappasswd -s "$LDAP_ADMIN_PW")
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: uid,cn,mail eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by * read

dn: olcOverlay={0}accesslog,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {0}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 01+00:00 00+01:00

dn: olcDatabase={3}monitor,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {3}monitor
olcAccess: {0}to * by dn.exact="$LDAP_ADMIN_DN" read by * none
LDIF
  DC1=$(echo "$LDAP_SUFFIX" | sed -E 's/^dc=([^,]+).*/\1/')
  cat > "$LDAP_DIR/base.ldif" <<LDIF
dn: $LDAP_SUFFIX
objectClass: top
objectClass: dcObject
objectClass: organization
o: $DC1
dc: $DC1

dn: ou=people,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: groups
LDIF
  slapadd -q -n 0 -F "$LDAP_DIR/slapd.d" -l "$LDAP_DIR/config.ldif"
  printf 'dn: cn=accesslog\nobjectClass: auditContainer\ncn: accesslog\n' > "$LDAP_DIR/accesslog.ldif"
  slapadd -q -b "$LDAP_SUFFIX" -F "$LDAP_DIR/slapd.d" -l "$LDAP_DIR/base.ldif"
  slapadd -q -b cn=accesslog -F "$LDAP_DIR/slapd.d" -l "$LDAP_DIR/accesslog.ldif"
  slapd -h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/" -F "$LDAP_DIR/slapd.d"
  echo "$LDAP_LAYOUT" > "$LDAP_DIR/layout"
fi
wait_for 15 "slapd ldap://127.0.0.1:$LDAP_PORT ($LDAP_SUFFIX), accesslog cn=accesslog" ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW"
wait_for 15 "slapd ldaps://127.0.0.1:$LDAPS_PORT and StartTLS, CA $LDAP_CA_FILE" slapd_current

echo "services ready after $(( $(date +%s) - t0 ))s"
