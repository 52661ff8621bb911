#!/usr/bin/env bash
# Makes sure the services the tests talk to are up on 127.0.0.1, installing
# what this Debian host lacks: PostgreSQL (5432), MariaDB (3306), Redis (6379)
# and a throwaway OpenLDAP slapd (IM_TEST_LDAP_PORT, default 3890) with
# suffix dc=identitymesh,dc=test. Idempotent: whatever already runs is left
# alone. Needs root for installs; prints one line per service.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

LDAP_PORT=${IM_TEST_LDAP_PORT:-3890}
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

# --- OpenLDAP: our own throwaway cn=config and database, never the system's.
ensure_packages slapd ldap-utils
if ! ldapsearch -x -H "ldap://127.0.0.1:$LDAP_PORT" -b "$LDAP_SUFFIX" -s base dn >/dev/null 2>&1; then
  [ -f "$LDAP_DIR/slapd.pid" ] && kill "$(cat "$LDAP_DIR/slapd.pid")" 2>/dev/null || true
  rm -rf "$LDAP_DIR"; mkdir -p "$LDAP_DIR/slapd.d" "$LDAP_DIR/data"
  cat > "$LDAP_DIR/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $LDAP_DIR/slapd.pid
olcArgsFile: $LDAP_DIR/slapd.args
olcSizeLimit: unlimited

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

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
olcDbDirectory: $LDAP_DIR/data
olcDbMaxSize: 4294967296
olcSuffix: $LDAP_SUFFIX
olcRootDN: cn=admin,$LDAP_SUFFIX
olcRootPW: $(slappasswd -s "$LDAP_ADMIN_PW")
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: uid,cn,mail eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by * read
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
  slapadd -q -n 1 -F "$LDAP_DIR/slapd.d" -l "$LDAP_DIR/base.ldif"
  slapd -h "ldap://127.0.0.1:$LDAP_PORT/" -F "$LDAP_DIR/slapd.d"
fi
wait_for 15 "slapd ldap://127.0.0.1:$LDAP_PORT ($LDAP_SUFFIX)" ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "cn=admin,$LDAP_SUFFIX" -w "$LDAP_ADMIN_PW"

echo "services ready after $(( $(date +%s) - t0 ))s"
