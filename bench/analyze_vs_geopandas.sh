#!/usr/bin/env bash
# Benchmark: `soilrisk analyze` against GeoPandas doing the same overlay on the same files, in
# one run. Usage: bench/analyze_vs_geopandas.sh [PARCELS] [WORKDIR]
#   needs: pip install geopandas   (GeoPandas, shapely/GEOS, pyogrio)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=${2:-/tmp/soilrisk-bench}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/soilrisk
if [ ! -f "$work/data-$n/parcels.shp" ]; then
  "$bin" sample --out "$work/data-$n" --parcels "$n"
fi
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $n parcels"
echo "== soilrisk"
/usr/bin/time -f "soilrisk wall %e s, peak RSS %M KiB" \
  "$bin" analyze --risk "$work/data-$n/risk_areas.shp" --parcels "$work/data-$n/parcels.shp" \
  --out "$work/out-soilrisk" --timings > "$work/soilrisk.txt"
echo "== GeoPandas $(python3 -c 'import geopandas; print(geopandas.__version__)')"
/usr/bin/time -f "geopandas wall %e s, peak RSS %M KiB" \
  python3 scripts/reference_overlay.py --risk "$work/data-$n/risk_areas.shp" \
  --parcels "$work/data-$n/parcels.shp" --out "$work/out-geopandas" --timings \
  --compare "$work/out-soilrisk/summary.json" | tail -n 14
