#!/usr/bin/env bash
# PostGIS at a million parcels (README, Performance): in one run, the same layers
#   1. read from the shapefiles by the local engine,
#   2. read from PostGIS tables by the local engine,
#   3. overlaid inside PostGIS (`--engine postgis`),
#   4. overlaid by the hand-written anchor (benches/postgis_anchor.sql) in psql,
# each with its wall time and the client's peak memory.
#
#   benches/postgis.sh BIN DATA DB_URL
# BIN: a release soilrisk; DATA: a folder from `soilrisk sample --out DATA --parcels 1000000`;
# DB_URL: postgresql://USER@HOST:PORT/DB holding DATA's risk_areas and parcels as tables
# (loaded with ogr2ogr: -nlt PROMOTE_TO_MULTI -lco GEOMETRY_NAME=geom), PGPASSWORD set.
set -euo pipefail
bin=${1:?BIN}
data=${2:?DATA}
db=${3:?DB_URL}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rest=${db#postgresql://}
user=${rest%%@*}
hostport=${rest#*@}
hostport=${hostport%%/*}
name=${rest##*/}

run() {
  local label=$1
  shift
  /usr/bin/time -f "$label: %e s, %M KiB peak" "$@" > /dev/null
}
run "local, shapefiles" "$bin" analyze --risk "$data/risk_areas.shp" \
  --parcels "$data/parcels.shp" --out "$out/files"
run "local, PostGIS tables" "$bin" analyze --risk "$db?table=risk_areas" \
  --parcels "$db?table=parcels" --out "$out/tables"
run "--engine postgis" "$bin" analyze --risk "$db?table=risk_areas" \
  --parcels "$db?table=parcels" --out "$out/pushed" --engine postgis
/usr/bin/time -f "anchor (psql): %e s" psql -X -q -h "${hostport%:*}" -p "${hostport#*:}" -U "$user" -d "$name" \
  -f "$(dirname "$0")/postgis_anchor.sql"
for d in files tables pushed; do
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); \
print(sys.argv[2], s['parcels_at_risk'], repr(s['contaminated_area_m2']), repr(s['safe_utilization_rate']))" \
    "$out/$d/summary.json" "$d"
done
