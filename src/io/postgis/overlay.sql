-- soilrisk's overlay, pushed down into PostGIS (`soilrisk analyze --engine postgis`).
--
-- The risk areas are dissolved by class (where areas overlap, the higher class counts), cut
-- into small pieces with ST_Subdivide and indexed with GiST; the parcels are joined to them
-- and each parcel's share of every piece is measured with ST_Intersection and ST_Area. Only
-- numbers leave the server: each parcel's area, its area in each class, its area in each
-- risk area by the class it counts in, its box, and the geometry of the parcels at risk
-- (for parcels.geojson). soilrisk then applies measures, ledgers and regions, and writes the
-- same files as its own engine.
--
-- soilrisk fills the names in braces with quoted identifiers (never with text a user typed
-- unquoted) and runs the statements in order, in one transaction; the temporary tables go
-- at its end. The names:
--   {risk}, {risk_key}, {risk_geom}         the risk-area table, its primary key, its geometry
--   {parcels}, {parcel_key}, {parcel_geom}  the parcel table, the same
--   {area}                                  the area of `g` in m²: ST_Area(g), or on the
--                                           spheroid, ST_Area(ST_Transform(g, 4326)::geography)
--   {fields}                                the parcel attributes soilrisk reads, cast
-- and the parameters of statement 1, one element for each risk area soilrisk read:
--   $1 text[]    its key, as text
--   $2 bigint[]  its record (as soilrisk numbers the rows it read)
--   $3 int[]     its class as soilrisk read it through its vocabularies (1 I, 2 II, 3 III)
--
-- On Citus: distribute both tables by region (a county code column) so that they are
-- co-located, and make the risk tables below (risk, dissolved, zone) reference tables
-- (ordinary tables passed to create_reference_table) rather than temporary ones: they hold
-- the risk areas only, a few thousand rows for a province, copied to every worker. The
-- parcel joins (steps 4 and 5) then run on every worker's shards at once, the shares
-- (soilrisk_share, soilrisk_class, soilrisk_piece) distributed by the parcel key, and only
-- the per-parcel numbers travel.

-- 0. The area of a geometry in m², as the accounting's area basis measures it.
CREATE FUNCTION pg_temp.soilrisk_area(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {area} $$;

-- 1. The risk areas soilrisk read, by their key (a row added since is not among them),
-- with their record and class; repaired where invalid.
CREATE TEMP TABLE soilrisk_risk ON COMMIT DROP AS
SELECT c.record, c.class, ST_CollectionExtract(ST_MakeValid(r.{risk_geom}), 3) AS geom
FROM {risk} AS r
JOIN unnest($1::text[], $2::bigint[], $3::int[]) AS c (key, record, class)
    ON r.{risk_key}::text = c.key
WHERE r.{risk_geom} IS NOT NULL;

-- 2. The class dissolve. First each class's areas merged where they overlap: clusters of
-- areas that meet (ST_ClusterDBSCAN with a distance of 0), each cluster unioned on its own,
-- which is far quicker than one union of a province's areas, and cut into pieces of at
-- most 64 vertices.
CREATE TEMP TABLE soilrisk_dissolved ON COMMIT DROP AS
WITH clustered AS (
    SELECT class, geom, ST_ClusterDBSCAN(geom, 0, 1) OVER (PARTITION BY class) AS cluster
    FROM soilrisk_risk
)
SELECT class, ST_Subdivide(ST_UnaryUnion(ST_Collect(geom)), 64) AS geom
FROM clustered
GROUP BY class, cluster;

CREATE INDEX ON soilrisk_dissolved USING gist (geom);

ANALYZE soilrisk_dissolved;

-- Then each class's zone: where it is the highest class of the areas over it (overlaps go
-- to the higher class), each piece less the higher classes' pieces it meets.
CREATE TEMP TABLE soilrisk_zone ON COMMIT DROP AS
SELECT d.class, ST_Subdivide(ST_CollectionExtract(coalesce(ST_Difference(d.geom, (
    SELECT ST_Union(h.geom)
    FROM soilrisk_dissolved AS h
    WHERE h.class > d.class AND ST_Intersects(h.geom, d.geom)
)), d.geom), 3), 64) AS geom
FROM soilrisk_dissolved AS d;

DELETE FROM soilrisk_zone WHERE ST_IsEmpty(geom);

CREATE INDEX ON soilrisk_zone USING gist (geom);

ANALYZE soilrisk_zone;

-- 3. The risk areas indexed, for step 5.
CREATE INDEX ON soilrisk_risk USING gist (geom);

ANALYZE soilrisk_risk;

-- 4. Each parcel's share of each zone piece it meets: the parcel itself where the piece
-- covers it, else their intersection. The loop runs over the zone's pieces (a few thousand),
-- each finding its parcels through the parcel table's GiST index: most of a province's
-- parcels are far from every risk area and are never touched.
CREATE TEMP TABLE soilrisk_share ON COMMIT DROP AS
SELECT p.key, z.class, CASE
    WHEN ST_CoveredBy(p.geom, z.geom) AND ST_IsValid(p.geom) THEN p.geom
    ELSE ST_CollectionExtract(
        ST_Intersection(ST_CollectionExtract(ST_MakeValid(p.geom), 3), z.geom), 3)
END AS geom
FROM soilrisk_zone AS z
CROSS JOIN LATERAL (
    SELECT {parcel_key} AS key, {parcel_geom} AS geom
    FROM {parcels}
    WHERE {parcel_geom} && z.geom AND ST_Intersects(z.geom, {parcel_geom})
    OFFSET 0
) AS p;

CREATE INDEX ON soilrisk_share USING gist (geom);

ANALYZE soilrisk_share;

-- Each parcel's area in each class.
CREATE TEMP TABLE soilrisk_class ON COMMIT DROP AS
SELECT key, class, sum(pg_temp.soilrisk_area(geom)) AS m2
FROM soilrisk_share
GROUP BY key, class;

-- 5. Each parcel's area in each risk area, by the class it counts in (a class-I area under
-- a class-III one counts as III there): its shares cut by the risk areas, each risk area
-- finding the shares it meets (tested against the whole area, prepared once: most shares
-- lie inside one and need no cutting).
CREATE TEMP TABLE soilrisk_piece ON COMMIT DROP AS
SELECT s.key, r.record, s.class, sum(pg_temp.soilrisk_area(CASE
    WHEN ST_Covers(r.geom, s.geom) THEN s.geom
    ELSE ST_Intersection(s.geom, r.geom)
END)) AS m2
FROM soilrisk_risk AS r
CROSS JOIN LATERAL (
    SELECT key, class, geom
    FROM soilrisk_share
    WHERE geom && r.geom AND ST_Intersects(r.geom, geom)
    OFFSET 0
) AS s
GROUP BY s.key, r.record, s.class;

-- 6. Every parcel, in key order (read through a cursor, a batch at a time): its key, area,
-- geometry where it is at risk, box, classes, pieces and attributes. A geometry that is not
-- a valid polygon or multipolygon (self-intersecting, empty, or of another type) comes too,
-- so that soilrisk repairs, warns of or refuses it as it does any layer's; its area is that
-- of its repaired polygons.
SELECT
    p.{parcel_key}::text,
    CASE WHEN p.soilrisk_plain THEN pg_temp.soilrisk_area(p.soilrisk_geometry)
        ELSE pg_temp.soilrisk_area(ST_CollectionExtract(ST_MakeValid(p.soilrisk_geometry), 3))
    END,
    CASE WHEN c.m2 IS NOT NULL OR NOT p.soilrisk_plain THEN ST_AsEWKB(p.soilrisk_geometry) END,
    ST_XMin(p.soilrisk_geometry), ST_YMin(p.soilrisk_geometry),
    ST_XMax(p.soilrisk_geometry), ST_YMax(p.soilrisk_geometry),
    c.classes, c.m2, f.records, f.classes, f.m2
    {fields}
FROM (
    SELECT *, {parcel_geom} AS soilrisk_geometry,
        coalesce(GeometryType({parcel_geom}) IN ('POLYGON', 'MULTIPOLYGON')
            AND NOT ST_IsEmpty({parcel_geom}) AND ST_IsValid({parcel_geom}), true) AS soilrisk_plain
    FROM {parcels}
) AS p
LEFT JOIN (
    SELECT key, array_agg(class) AS classes, array_agg(m2) AS m2
    FROM soilrisk_class WHERE m2 > 0 GROUP BY key
) AS c ON c.key = p.{parcel_key}
LEFT JOIN (
    SELECT key, array_agg(record) AS records, array_agg(class) AS classes, array_agg(m2) AS m2
    FROM soilrisk_piece WHERE m2 > 0 GROUP BY key
) AS f ON f.key = p.{parcel_key}
ORDER BY p.{parcel_key}
