#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets (fuzz/corpus/<target>/, gitignored) from the
# real-file corpus in ../shared/realdata (or $REALDATA), which is never copied into the repo:
#
#   fuzz/corpus/read_shapefile/  every shapefile (loose, or inside a .zip) packed with its
#                                .dbf/.prj/.cpg in the target's input format (fuzz/src/lib.rs);
#                                big ones keep only some of their records, to keep seeds small
#   fuzz/corpus/parse_geojson/   every .geojson and .json, as is
#   fuzz/corpus/read_geopackage/ every .gpkg under 1 MiB as is, and the geometry blobs of
#                                every .gpkg's feature tables (up to 50 a layer), each alone
#   fuzz/corpus/read_filegdb/    every File Geodatabase table (in a loose .gdb folder or one
#                                inside a .zip) with its .gdbtablx, packed in the target's
#                                input format (PackedTable in fuzz/src/lib.rs); tables over
#                                256 KiB left out
#
# Usage: scripts/fuzz_seeds.sh [--clean]   (--clean empties the corpus directories first,
# dropping what earlier fuzzing runs added to them)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
realdata="${REALDATA:-$root/../shared/realdata}"
if [[ ! -d "$realdata" ]]; then
    echo "no real-file corpus at $realdata (set REALDATA)" >&2
    exit 1
fi
if [[ "${1:-}" == "--clean" ]]; then
    rm -rf "$root/fuzz/corpus/read_shapefile" "$root/fuzz/corpus/parse_geojson" \
        "$root/fuzz/corpus/read_geopackage" "$root/fuzz/corpus/read_filegdb"
fi
mkdir -p "$root/fuzz/corpus/read_shapefile" "$root/fuzz/corpus/parse_geojson" \
    "$root/fuzz/corpus/read_geopackage" "$root/fuzz/corpus/read_filegdb"

python3 - "$realdata" "$root/fuzz/corpus" <<'PY'
import hashlib, io, os, re, struct, sys, zipfile

realdata, out = sys.argv[1], sys.argv[2]
SHP_CAP, DBF_CAP = 192 * 1024, 64 * 1024   # bytes kept of a big .shp / .dbf

def shp_records(shp):
    """(start, end) of each record of a .shp, framed as soilrisk frames them."""
    spans, pos = [], 100
    while pos + 8 <= len(shp):
        n = struct.unpack(">i", shp[pos + 4:pos + 8])[0] * 2
        if n < 0 or pos + 8 + n > len(shp):
            break
        spans.append((pos, pos + 8 + n))
        pos += 8 + n
    return spans

def cut(shp, dbf):
    """A big shapefile keeps only the records that fit the caps (in file order, skipping any
    record too big alone), the same records in the .shp and the .dbf."""
    if len(shp) <= SHP_CAP and (dbf is None or len(dbf) <= DBF_CAP):
        return shp, dbf
    spans = shp_records(shp) if len(shp) >= 100 else []
    rows = None
    if dbf is not None and len(dbf) >= 32:
        hlen, rlen = struct.unpack("<HH", dbf[8:12])
        count = struct.unpack("<I", dbf[4:8])[0]
        if rlen > 0 and hlen + count * rlen <= len(dbf):
            rows = [dbf[hlen + i * rlen:hlen + (i + 1) * rlen] for i in range(count)]
    n = len(spans) if rows is None else min(len(spans), len(rows))
    keep, shp_size, dbf_size = [], 100, 0 if rows is None else hlen + 1
    for i in range(n):
        s = spans[i][1] - spans[i][0]
        r = 0 if rows is None else rlen
        if shp_size + s <= SHP_CAP and dbf_size + r <= DBF_CAP:
            keep.append(i)
            shp_size += s
            dbf_size += r
    if not keep:
        return shp, dbf
    new_shp = bytearray(shp[:100] + b"".join(shp[spans[i][0]:spans[i][1]] for i in keep))
    new_shp[24:28] = struct.pack(">i", len(new_shp) // 2)
    if rows is not None:
        new_dbf = bytearray(dbf[:hlen] + b"".join(rows[i] for i in keep) + b"\x1a")
        new_dbf[4:8] = struct.pack("<I", len(keep))
        dbf = bytes(new_dbf)
    return bytes(new_shp), dbf

def pack(shp, dbf, prj, cpg):
    """The read_shapefile input format: see fuzz/src/lib.rs."""
    flags = (dbf is not None) | (prj is not None) << 1 | (cpg is not None) << 2
    parts = [shp, dbf or b"", prj or b""]
    return bytes([flags]) + b"".join(struct.pack("<I", len(p)) for p in parts) \
        + b"".join(parts) + (cpg or b"")

# An empty Polygon .shp (100-byte header, no records), for a .dbf found without its .shp.
EMPTY_SHP = struct.pack(">i", 9994) + bytes(20) + struct.pack(">i", 50) \
    + struct.pack("<ii", 1000, 5) + bytes(64)

def save(kind, name, data, seen):
    digest = hashlib.sha1(data).hexdigest()
    if digest in seen:
        return False
    seen.add(digest)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:100]
    with open(os.path.join(out, kind, f"{name}-{digest[:8]}"), "wb") as f:
        f.write(data)
    return True

def shapefiles(files, label):
    """Groups {path: bytes-loader} by stem (extension case-insensitive) and packs each group."""
    groups = {}
    for path, load in files.items():
        stem, ext = os.path.splitext(path)
        ext = ext.lower().lstrip(".")
        if ext in ("shp", "dbf", "prj", "cpg"):
            groups.setdefault(stem, {})[ext] = load
    for stem, g in sorted(groups.items()):
        if "shp" not in g and "dbf" not in g:
            continue
        get = lambda e: g[e]() if e in g else None
        shp = get("shp") if "shp" in g else EMPTY_SHP
        shp, dbf = cut(shp, get("dbf"))
        yield f"{label}{stem}", pack(shp, dbf, get("prj"), get("cpg"))

GDB_CAP = 256 * 1024   # bytes of the biggest .gdbtable kept

def gdb_tables(files, label):
    """Packs each aXXXXXXXX.gdbtable of a .gdb folder with its .gdbtablx (see PackedTable in
    fuzz/src/lib.rs). `files` maps paths to loaders."""
    lower = {p.lower(): p for p in files}
    for path in sorted(files):
        low = path.lower()
        if not low.endswith(".gdbtable") or ".gdb/" not in low.replace(os.sep, "/"):
            continue
        x = lower.get(low[:-1] + "x")
        if x is None:
            continue
        table = files[path]()
        if len(table) > GDB_CAP:
            continue
        yield f"{label}{path}", struct.pack("<I", len(table)) + table + files[x]()

seen, counts = set(), {"read_shapefile": 0, "parse_geojson": 0, "read_geopackage": 0,
                      "read_filegdb": 0}
loose, zips, jsons, gpkgs = {}, [], [], []
for d, _, names in os.walk(realdata):
    for n in names:
        p = os.path.join(d, n)
        rel = os.path.relpath(p, realdata)
        low = n.lower()
        if low.endswith(".zip"):
            zips.append((rel, p))
        elif low.endswith((".geojson", ".json")):
            jsons.append((rel, p))
        elif low.endswith(".gpkg"):
            gpkgs.append((rel, p))
        else:
            loose[rel] = (lambda p=p: open(p, "rb").read())

for name, data in shapefiles(loose, ""):
    counts["read_shapefile"] += save("read_shapefile", name, data, seen)
for name, data in gdb_tables(loose, ""):
    counts["read_filegdb"] += save("read_filegdb", name, data, seen)
for rel, p in sorted(zips):
    try:
        z = zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        continue
    members = {m: (lambda m=m, z=z: z.read(m)) for m in z.namelist() if not m.endswith("/")}
    for name, data in shapefiles(members, rel + "/"):
        counts["read_shapefile"] += save("read_shapefile", name, data, seen)
    for name, data in gdb_tables(members, rel + "/"):
        counts["read_filegdb"] += save("read_filegdb", name, data, seen)
for rel, p in sorted(jsons):
    counts["parse_geojson"] += save("parse_geojson", rel, open(p, "rb").read(), seen)

import sqlite3
for rel, p in sorted(gpkgs):
    if os.path.getsize(p) <= 1 << 20:
        counts["read_geopackage"] += save("read_geopackage", rel, open(p, "rb").read(), seen)
    try:
        db = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
        layers = db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        for table, column in layers:
            q = 'SELECT "%s" FROM "%s" WHERE "%s" IS NOT NULL LIMIT 50' % (
                column.replace('"', '""'), table.replace('"', '""'), column.replace('"', '""'))
            for k, (blob,) in enumerate(db.execute(q)):
                if isinstance(blob, bytes):
                    counts["read_geopackage"] += save(
                        "read_geopackage", f"{rel}-{table}-{k}", blob, seen)
    except sqlite3.Error:
        pass

for kind, n in counts.items():
    print(f"{n:4d} new seeds in {os.path.join(out, kind)}")
PY
