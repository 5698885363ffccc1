#!/bin/sh
# The PostgreSQL writer (tools/writers/50-postgresql) against a real
# PostgreSQL 15 server: its data directory on a mounted ext4 origin, under
# a pgbench load of transactions that each insert a row into t and count
# it in c. 'snapctl create' with the writer makes the image an online base
# backup; its label and WAL go to the writer's state directory. The image,
# made writable, with the label and WAL put in place, must start as a
# second server, recover through the label (backup_label.old afterwards),
# show count(t) = c.n, and pass pg_amcheck. A writer failing at freeze
# after it makes it end the backup (abort). backup-complete prints the
# label's place, and runs the archive cleanup command for a full backup
# only. Skipped only when the PostgreSQL programs are not in the guest
# (tests/vm/deps.sh unpacks them, vmtest.py copies them in).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

PGBIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PGBIN/postgres" ] || [ ! -x "$PGBIN/psql" ]; then
	echo "1..0 # SKIP PostgreSQL 15 is not in the guest ($PGBIN)"
	exit 0
fi

A=$ORIGIN
M=/tmp/pg-a		# the origin, mounted
I=/tmp/pg-img		# the image, mounted read-write
S=/tmp/pgsock
WD=/tmp/pg-writers
PGUID=70
LOAD=
IMG=

# util-linux's setpriv: busybox sh runs its own applet before PATH.
as_pg() {
	/usr/bin/setpriv --reuid=$PGUID --regid=$PGUID --clear-groups "$@"
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$LOAD" ] && kill "$LOAD" 2> /dev/null
	as_pg "$PGBIN/pg_ctl" -D "$I/data" -m immediate stop > /dev/null 2>&1
	as_pg "$PGBIN/pg_ctl" -D "$M/data" -m immediate stop > /dev/null 2>&1
	sleep 1
	umount "$I" "$M" 2> /dev/null
	quiet_detach "$A"
}
trap cleanup EXIT

sql() {	# PORT SQL
	"$PGBIN/psql" -X -q -A -t -h "$S" -p "$1" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 -c "$2"
}

fresh_start
tap_plan 14

grep -q '^postgres:' /etc/passwd ||
	echo "postgres:x:$PGUID:$PGUID:PostgreSQL:/tmp:/bin/sh" >> /etc/passwd
grep -q '^postgres:' /etc/group || echo "postgres:x:$PGUID:" >> /etc/group
snapctl attach "$A" --store "$STORE" > /dev/null
mkfs.ext4 -q -F "$A"
mkdir -p "$M" "$I" "$S" "$WD"
mount "$A" "$M"
mkdir "$M/data"
chown $PGUID:$PGUID "$M/data" "$S"
chmod 700 "$M/data"
if as_pg "$PGBIN/initdb" -D "$M/data" -A trust -U postgres --no-locale --no-sync \
	-E UTF8 > /tmp/initdb.log 2>&1; then
	ok "initdb on the origin"
else
	not_ok "initdb on the origin"
	sed 's/^/# /' /tmp/initdb.log
	tap_done
fi
cat >> "$M/data/postgresql.conf" <<EOC
listen_addresses = ''
unix_socket_directories = '$S'
shared_buffers = 16MB
dynamic_shared_memory_type = mmap
max_connections = 20
max_wal_size = 64MB
EOC
if as_pg "$PGBIN/pg_ctl" -D "$M/data" -l /tmp/pg-a.log -w -t 120 start > /dev/null; then
	ok "the server starts"
else
	not_ok "the server starts"
	sed 's/^/# /' /tmp/pg-a.log
	tap_done
fi
sql 5432 "CREATE TABLE t (id bigserial PRIMARY KEY, v int, pad text);
	  CREATE INDEX ON t (v);
	  CREATE TABLE c (n bigint);
	  INSERT INTO c VALUES (0);"
cat > /tmp/pg-writer.conf <<EOC
PGHOST=$S
PGPORT=5432
PGUSER=postgres
PGDATABASE=postgres
VOLSNAP_PG_BINDIR=$PGBIN
VOLSNAP_PG_STATE=/tmp/pg-state
VOLSNAP_PG_RUNDIR=/tmp/pg-run
VOLSNAP_PG_ARCHIVE_CLEANUP="echo cleanup-up-to"
EOC
export VOLSNAP_PG_CONF=/tmp/pg-writer.conf
ln -sf /usr/local/lib/volsnap/writers/50-postgresql "$WD/"

# A writer after it that fails at freeze: abort ends the backup.
# shellcheck disable=SC2016  # the writer's $1
printf '#!/bin/sh\n[ "$1" != freeze ] || [ ! -f /tmp/pg-fail ]\n' > "$WD/60-fail"
chmod 755 "$WD/60-fail"
touch /tmp/pg-fail
expect_fail "a failing freeze after the PostgreSQL writer fails create" 1 \
	snapctl create "$A" --writers "$WD"
rm /tmp/pg-fail
sessions=$(sql 5432 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
if grep -q "50-postgresql: backup aborted" /tmp/check.out && [ "$sessions" = 1 ] &&
   [ -z "$(ls /tmp/pg-run)" ] && [ -z "$(ls /tmp/pg-state 2> /dev/null)" ]; then
	ok "abort: the backup session ended, nothing kept"
else
	not_ok "abort: the backup session ended, nothing kept ($sessions sessions)"
	sed 's/^/# /' /tmp/check.out
	find /tmp/pg-run /tmp/pg-state | sed 's/^/# /'
fi

cat > /tmp/pg-load.sql <<'EOS'
BEGIN;
INSERT INTO t (v, pad) VALUES ((random() * 1000)::int, repeat('x', 200));
UPDATE c SET n = n + 1;
END;
EOS
"$PGBIN/pgbench" -n -h "$S" -U postgres -c 2 -T 600 -f /tmp/pg-load.sql postgres \
	> /tmp/pgbench.log 2>&1 &
LOAD=$!
sleep 3

if snapctl -J create "$A" --writers "$WD" > /tmp/pg-create.json 2> /tmp/pg-create.err; then
	ok "create under load with the PostgreSQL writer"
else
	not_ok "create under load with the PostgreSQL writer"
fi
sed 's/^/# /' /tmp/pg-create.err
IMG=$(jq -r .device /tmp/pg-create.json)
B=/tmp/pg-state/${IMG#/dev/}
before=$(sql 5432 "SELECT n FROM c")
kill "$LOAD"
wait "$LOAD"
LOAD=
live=$(sql 5432 "SELECT n FROM c")
diag "rows when create returned: $before; when the load stopped: $live"
if [ -f "$B/backup_label" ] && grep -q "^LABEL: volsnap " "$B/backup_label" &&
   [ -n "$(ls "$B/pg_wal")" ]; then
	ok "the label and the backup's WAL are in $B"
else
	not_ok "the label and the backup's WAL are in $B"
	find /tmp/pg-state | sed 's/^/# /'
fi

snapctl backup-complete "$IMG" --writers "$WD" --copy > /tmp/pg-bc.out 2>&1
if grep -q "backup label of $M/data" /tmp/pg-bc.out && ! grep -q cleanup-up-to /tmp/pg-bc.out; then
	ok "backup-complete --copy: the label's place, no cleanup"
else
	not_ok "backup-complete --copy: the label's place, no cleanup"
	sed 's/^/# /' /tmp/pg-bc.out
fi
snapctl backup-complete "$IMG" --writers "$WD" > /tmp/pg-bc.out 2>&1
if grep -q "cleanup-up-to $(cat "$B/start_wal")" /tmp/pg-bc.out; then
	ok "backup-complete (full): the archive cleanup runs"
else
	not_ok "backup-complete (full): the archive cleanup runs"
	sed 's/^/# /' /tmp/pg-bc.out
fi

# The restore: the image, writable, with the label and the WAL.
snapctl writable "$IMG" > /dev/null
mount "$IMG" "$I"
cp "$B/backup_label" "$I/data/"
cp "$B"/pg_wal/* "$I/data/pg_wal/"
rm -f "$I/data/postmaster.pid"
chown -R $PGUID:$PGUID "$I/data"
if as_pg "$PGBIN/pg_ctl" -D "$I/data" -o "-p 5433" -l /tmp/pg-img.log -w -t 300 \
	start > /dev/null; then
	ok "the image's copy starts"
else
	not_ok "the image's copy starts"
fi
grep -E "backup|redo|consistent" /tmp/pg-img.log | sed 's/^/# /'
if [ -f "$I/data/backup_label.old" ] && grep -q "consistent recovery state reached" /tmp/pg-img.log; then
	ok "it recovered through the backup label"
else
	not_ok "it recovered through the backup label"
	tail -n 20 /tmp/pg-img.log | sed 's/^/# /'
fi
got=$(sql 5433 "SELECT count(*) || ' ' || (SELECT n FROM c) FROM t")
rows=${got% *}
is "count(t) = c.n in the copy" "$rows" "${got#* }"
if [ -n "$rows" ] && [ "$rows" -gt 0 ] && [ "$rows" -le "$live" ]; then
	ok "the copy holds $rows rows, some of the load's $live"
else
	not_ok "the copy holds '$rows' rows (the load wrote $live)"
fi
if "$PGBIN/pg_amcheck" -h "$S" -p 5433 -U postgres --heapallindexed --install-missing --all \
	> /tmp/pg-amcheck.out 2>&1; then
	ok "pg_amcheck on the copy"
else
	not_ok "pg_amcheck on the copy"
	sed 's/^/# /' /tmp/pg-amcheck.out | head -n 30
fi
if as_pg "$PGBIN/pg_ctl" -D "$I/data" -m fast stop > /dev/null &&
   as_pg "$PGBIN/pg_ctl" -D "$M/data" -m fast stop > /dev/null; then
	ok "both servers stop"
else
	not_ok "both servers stop"
fi
tap_done
