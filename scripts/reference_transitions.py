#!/usr/bin/env python3
"""Independent check of `soilrisk compare`'s transition matrix with GeoPandas/shapely (GEOS).

For each year: the risk areas dissolved per class with overlaps given to the highest class
(as scripts/reference_overlay.py does), the parcels cut by them (`overlay(how="identity")`)
into status pieces (no_risk outside every class; treated or untreated by the treatment rule of
DESIGN.md). Then the two years' pieces are overlaid with `overlay(how="union")`: a piece with
no before (after) status is not_cultivated that year. Areas are pivoted by status before ×
status after, for the province and per region (the after year's region, else the before
year's). With --compare, prints the largest difference from a soilrisk compare.json relative
to the contaminated total (the larger year's), and exits 1 when it exceeds --tolerance.

    pip install geopandas
    python3 scripts/reference_transitions.py --risk sample_data/risk_areas_2024.shp \
        --before-risk sample_data/risk_areas.shp --before sample_data/parcels.shp \
        --after sample_data/parcels_2024.shp --compare out/compare.json
"""
import argparse
import json
import os
import sys
import time

import geopandas as gpd
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_overlay import MEASURES, class_faces, lookup  # noqa: E402

STATUSES = ["not_cultivated", "no_risk", "treated", "untreated"]


def treated(cls, measure):
    """DESIGN.md's rule, with no compliance field (every crop complies)."""
    if cls == 1:
        return measure != 0
    if cls == 2:
        return measure in (2, 3)
    return measure == 3


def status_pieces(risk, parcels, region_field):
    faces = class_faces(gpd.read_file(risk))
    p = gpd.read_file(parcels)
    p["measure"] = p["MEASURE"].map(lambda v: lookup(MEASURES, v))
    p = p[["measure", region_field, "geometry"]].rename(columns={region_field: "region"})
    pieces = gpd.overlay(p, faces.to_crs(p.crs), how="identity", keep_geom_type=True)

    def status(row):
        if pd.isna(row["cls"]):
            return "no_risk"
        return "treated" if treated(int(row["cls"]), int(row["measure"])) else "untreated"

    pieces["status"] = pieces.apply(status, axis=1)
    return pieces[["status", "region", "geometry"]]


def matrix(df):
    out = {b: {a: 0.0 for a in STATUSES} for b in STATUSES}
    for (b, a), area in df.groupby(["status_b", "status_a"])["area"].sum().items():
        out[b][a] += float(area)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--risk", required=True, help="the after year's risk layer")
    ap.add_argument("--before-risk", help="the before year's, where it differs")
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--region-field", default="COUNTY")
    ap.add_argument("--compare", help="a soilrisk compare.json")
    ap.add_argument("--tolerance", type=float, default=1e-6)
    a = ap.parse_args()

    t0 = time.perf_counter()
    before = status_pieces(a.before_risk or a.risk, a.before, a.region_field)
    after = status_pieces(a.risk, a.after, a.region_field).to_crs(before.crs)
    u = gpd.overlay(
        before.rename(columns={"status": "status_b", "region": "region_b"}),
        after.rename(columns={"status": "status_a", "region": "region_a"}),
        how="union",
        keep_geom_type=True,
    )
    u["status_b"] = u["status_b"].fillna("not_cultivated")
    u["status_a"] = u["status_a"].fillna("not_cultivated")
    u["region"] = u["region_a"].where(u["region_a"].notna(), u["region_b"])
    u["area"] = u.geometry.area
    result = {
        "transitions": matrix(u),
        "by_region": {str(r): matrix(g) for r, g in u.groupby("region")},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))

    if a.compare:
        with open(a.compare, encoding="utf-8") as f:
            c = json.load(f)
        scale = max(c["before"]["contaminated_area_m2"], c["after"]["contaminated_area_m2"])
        worst, where = 0.0, None
        theirs = {r["region"]: r["transitions"] for r in c["by_region"]}
        pairs = [("province", result["transitions"], c["transitions"])]
        pairs += [(r, m, theirs.get(r)) for r, m in result["by_region"].items()]
        for name, ours, soil in pairs:
            if soil is None:
                print(f"region {name} missing from {a.compare}", file=sys.stderr)
                sys.exit(1)
            for b in STATUSES:
                for s in STATUSES:
                    d = abs(ours[b][s] - soil[b][s]) / scale
                    if d > worst:
                        worst, where = d, f"{name}: {b} -> {s}"
        print(f"largest difference: {worst:.3e} of the contaminated total ({where})",
              file=sys.stderr)
        if worst > a.tolerance:
            sys.exit(1)


if __name__ == "__main__":
    main()
