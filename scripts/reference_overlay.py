#!/usr/bin/env python3
"""Independent check of soilrisk's numbers with GeoPandas/shapely (GEOS).

Does what a QGIS user would do by hand: dissolve the risk areas per class, give overlaps to
the highest class, intersect with the parcels (gpd.overlay), sum areas per class, apply the
treatment rule of DESIGN.md and total per province and region. Prints the totals as JSON and,
with --compare, the relative difference from a soilrisk summary.json. Also used as the
GeoPandas side of the benchmark (--timings).

    pip install geopandas
    python3 scripts/reference_overlay.py --risk sample_data/risk_areas.shp \
        --parcels sample_data/parcels.shp --compare out/summary.json --timings
"""
import argparse
import json
import resource
import sys
import time

import geopandas as gpd
import pandas as pd

CLASSES = {
    1: ["1", "i", "优先保护", "优先保护类", "priority"],
    2: ["2", "ii", "安全利用", "安全利用类", "safe_use"],
    3: ["3", "iii", "严格管控", "严格管控类", "strict_control"],
}
MEASURES = {
    0: ["", "0", "无", "无措施", "未落实", "none"],
    1: ["1", "优先保护", "priority"],
    2: ["2", "安全利用", "safe_use", "农艺调控", "替代种植", "品种替代", "低积累品种",
        "石灰调节", "水分调控", "叶面阻控", "深翻耕"],
    3: ["3", "严格管控", "strict_control", "种植结构调整", "特定农产品禁止生产区",
        "退耕还林还草", "休耕", "轮作休耕"],
}


def lookup(table, value):
    v = ("" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)).strip().lower()
    for k, words in table.items():
        if v in words:
            return k
    raise SystemExit(f"unknown value {value!r}")


def class_faces(risk):
    """The risk areas dissolved per class, every higher class taken away (overlaps go to the
    highest), as single parts with their class `cls`."""
    risk = risk.copy()
    risk["cls"] = risk["RISK_CLASS"].map(lambda v: lookup(CLASSES, v))
    dissolved = risk.dissolve(by="cls")[["geometry"]].reset_index()
    higher = None
    pieces = []
    for cls in (3, 2, 1):
        row = dissolved[dissolved["cls"] == cls]
        if row.empty:
            continue
        g = row.geometry.iloc[0]
        own = g if higher is None else g.difference(higher)
        pieces.append({"cls": cls, "geometry": own})
        higher = g if higher is None else higher.union(g)
    # Multipart to single parts (as the QGIS chain does): overlay's spatial index then sees
    # each part, not one province-wide multipolygon per class.
    return gpd.GeoDataFrame(pieces, geometry="geometry", crs=risk.crs).explode(index_parts=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--risk", required=True)
    ap.add_argument("--parcels", required=True)
    ap.add_argument("--target", type=float, default=0.94)
    ap.add_argument("--compare")
    ap.add_argument("--timings", action="store_true")
    ap.add_argument("--out", help="also write the parcels at risk, with their areas by class, "
                    "as GeoJSON in WGS 84 (the same job as soilrisk's parcels.geojson)")
    a = ap.parse_args()

    t0 = time.perf_counter()
    risk = gpd.read_file(a.risk)
    parcels = gpd.read_file(a.parcels)
    t_read = time.perf_counter()

    classes = class_faces(risk)
    parcels["area_m2"] = parcels.geometry.area
    parcels["measure"] = parcels["MEASURE"].map(lambda v: lookup(MEASURES, v))
    t_prep = time.perf_counter()

    inter = gpd.overlay(parcels[["PARCEL_ID", "COUNTY", "measure", "geometry"]], classes,
                        how="intersection", keep_geom_type=True)
    t_overlay = time.perf_counter()

    inter["a"] = inter.geometry.area
    m, c = inter["measure"], inter["cls"]
    treated = ((c == 1) & (m != 0)) | ((c == 2) & m.isin([2, 3])) | ((c == 3) & (m == 3))
    inter["treated"] = inter["a"].where(treated, 0.0)
    by_class = inter.groupby("cls")["a"].sum()
    contaminated = float(inter["a"].sum())
    treated_total = float(inter["treated"].sum())
    per_parcel = inter.groupby("PARCEL_ID")["a"].sum()
    regions = {}
    for name, g in inter.groupby("COUNTY"):
        regions[name] = {"contaminated_area_m2": float(g["a"].sum()),
                         "treated_area_m2": float(g["treated"].sum())}
    out = {
        "parcels": int(len(parcels)),
        "risk_areas": int(len(risk)),
        "parcels_at_risk": int((per_parcel > 0).sum()),
        "cultivated_area_m2": float(parcels["area_m2"].sum()),
        "contaminated_area_m2": contaminated,
        "priority_area_m2": float(by_class.get(1, 0.0)),
        "safe_use_area_m2": float(by_class.get(2, 0.0)),
        "strict_control_area_m2": float(by_class.get(3, 0.0)),
        "treated_area_m2": treated_total,
        "untreated_area_m2": contaminated - treated_total,
        "safe_utilization_rate": treated_total / contaminated if contaminated else None,
        "gap_to_target_m2": max(0.0, a.target * contaminated - treated_total),
    }
    t_end = time.perf_counter()
    t_export = t_end
    if a.out:
        import os
        os.makedirs(a.out, exist_ok=True)
        per_class = inter.pivot_table(index="PARCEL_ID", columns="cls", values="a", aggfunc="sum",
                                      fill_value=0.0)
        per_class.columns = [f"class_{c}_m2" for c in per_class.columns]
        per_class["treated_area_m2"] = inter.groupby("PARCEL_ID")["treated"].sum()
        at_risk = parcels.merge(per_class, left_on="PARCEL_ID", right_index=True)
        at_risk.to_crs(4326).to_file(os.path.join(a.out, "parcels.geojson"), driver="GeoJSON")
        t_export = time.perf_counter()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if a.timings:
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"geopandas timings: read {t_read - t0:.3f} s, dissolve {t_prep - t_read:.3f} s, "
              f"overlay {t_overlay - t_prep:.3f} s, statistics {t_end - t_overlay:.3f} s, "
              f"export {t_export - t_end:.3f} s, total {t_export - t0:.3f} s, "
              f"peak memory {peak_mib:.0f} MiB", file=sys.stderr)
    if a.compare:
        with open(a.compare, encoding="utf-8") as f:
            mine = json.load(f)
        worst = 0.0
        for k, v in out.items():
            if v is None or not isinstance(v, (int, float)):
                continue
            w = mine[k]
            rel = abs(w - v) / max(abs(v), 1e-12)
            worst = max(worst, rel)
            print(f"{k:26} geos {v!r:>24} soilrisk {w!r:>24} rel.diff {rel:.2e}")
        for r in mine["by_region"]:
            ref = regions.get(r["region"], {"contaminated_area_m2": 0.0, "treated_area_m2": 0.0})
            for k in ("contaminated_area_m2", "treated_area_m2"):
                v, w = ref[k], r[k]
                rel = abs(w - v) / max(abs(v), 1e-12) if v else abs(w)
                worst = max(worst, rel)
        print(f"largest relative difference (totals and regions): {worst:.2e}")


if __name__ == "__main__":
    main()
