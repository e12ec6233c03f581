-- The PostGIS anchor for `analyze --engine postgis` (README, "PostGIS at a million
-- parcels"): the overlay a GIS analyst would write by hand in psql, for its time and its
-- total. The risk areas are dissolved (clusters of meeting areas unioned), cut with
-- ST_Subdivide and indexed with GiST; the parcels' area inside them is summed. Its total is
-- soilrisk's contaminated_area_m2 (overlaps counted once), found without soilrisk's code.
--
--   psql -d DB -f benches/postgis_anchor.sql       (tables risk_areas and parcels, column geom)
\timing on
BEGIN;
CREATE TEMP TABLE anchor_risk ON COMMIT DROP AS
WITH clustered AS (
    SELECT geom, ST_ClusterDBSCAN(geom, 0, 1) OVER () AS cluster FROM risk_areas
)
SELECT ST_Subdivide(ST_UnaryUnion(ST_Collect(geom)), 64) AS geom FROM clustered GROUP BY cluster;
CREATE INDEX ON anchor_risk USING gist (geom);
ANALYZE anchor_risk;
SELECT count(DISTINCT p.ogc_fid) AS parcels_at_risk,
       sum(ST_Area(ST_Intersection(p.geom, r.geom))) AS contaminated_area_m2
FROM parcels AS p
JOIN anchor_risk AS r ON ST_Intersects(p.geom, r.geom);
COMMIT;
