//! The `soilrisk` command: a thin front over the engine's pipeline (see `soilrisk::pipeline`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

#[cfg(feature = "gui")]
mod app;

use soilrisk::io::{ReadOptions, formats, read_layer};
use soilrisk::ledger::LedgerColumns;
use soilrisk::outputs::write_set;
use soilrisk::pipeline::{
    Analysis, AnalysisError, AreaBasis, Control, FieldMapping, KeepParcels, Phase, RegionLayer,
    Request, Role, Side, UnknownValues, Vocabulary, run,
};
use soilrisk::sample::{SampleOptions, write_sample};
use soilrisk::stats::{DEFAULT_TARGET, M2_PER_HA, M2_PER_MU, Summary};
use soilrisk::vocab::ValueMaps;

// A million small geometries and strings: mimalloc is markedly faster than glibc's allocator
// for this, especially across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "soilrisk",
    version,
    about = "Soil-pollution risk mapping: safe-utilisation coverage of cultivated land in risk areas",
    long_about = "Overlays cultivated-land parcels with soil-pollution risk areas and reports the \
                  safe-utilisation rate per parcel, risk area, county and province.\n\n\
                  With no command, opens the window on the bundled sample data."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the window on two layers
    Open {
        #[arg(help = layer_help("Risk-area layer"))]
        risk: PathBuf,
        #[arg(help = layer_help("Cultivated-land parcel layer"))]
        parcels: PathBuf,
    },
    #[command(about = analyze_about())]
    Analyze(Box<AnalyzeArgs>),
    /// Compare two years: rates before and after by region, the land's transitions between
    /// statuses and their causes, and the parcels that changed (compare.json,
    /// changes.geojson, regions.csv, tables.xlsx)
    Compare(Box<CompareArgs>),
    /// Describe a layer (geometry type, count, CRS, encoding, fields, extent, warnings) or a
    /// measure ledger (sheets, rows, columns)
    Info {
        #[arg(help = format!("{} or a ledger (.xlsx, .xls, .ods, .csv; a sheet as FILE.xlsx/SHEET)", layer_help("A layer")))]
        file: PathBuf,
        /// Text encoding of the attributes (GBK, UTF-8, 1252, ...), overriding .cpg and detection
        #[arg(long)]
        encoding: Option<String>,
    },
    /// Write synthetic Sichuan-like layers (3,568 risk areas, N parcels and the 24 counties,
    /// EPSG:4544, GBK), a measure ledger (ledger.xlsx) and the same land a year later
    /// (parcels_2024, risk_areas_2024 and the lineage table lineage_2024.csv)
    Sample {
        /// Output folder (created if missing)
        #[arg(long)]
        out: PathBuf,
        /// Number of parcels
        #[arg(long, default_value_t = 30_000)]
        parcels: usize,
        /// Random seed; the same seed gives the same bytes
        #[arg(long, default_value_t = 2023)]
        seed: u64,
    },
}

#[derive(Args)]
struct AnalyzeArgs {
    #[arg(long, help = layer_help("Risk-area layer"))]
    risk: PathBuf,
    #[arg(long, help = layer_help("Cultivated-land parcel layer"))]
    parcels: PathBuf,
    /// Output folder (created if missing)
    #[arg(long)]
    out: PathBuf,
    /// A measure ledger (台账: .xlsx/.xls/.ods, FILE.xlsx/SHEET, or .csv in UTF-8 or GBK) whose
    /// rows override the parcels' measure and compliance by parcel id; repeatable (one per
    /// county)
    #[arg(long = "ledger", value_name = "FILE")]
    ledgers: Vec<PathBuf>,
    /// Where the overlay runs: here (local), or inside PostGIS (postgis: both layers tables
    /// of one database; only numbers, and the parcels at risk, come back)
    #[arg(long, value_enum, default_value_t = EngineArg::Local)]
    engine: EngineArg,
    /// Also write the results into the parcel layer's PostGIS database, as the tables
    /// SCHEMA.soilrisk_parcels and SCHEMA.soilrisk_regions, replacing an earlier run's in one
    /// transaction
    #[arg(long, value_name = "SCHEMA")]
    write_back: Option<String>,
    #[command(flatten)]
    options: Options,
    #[command(flatten)]
    report: ReportArgs,
}

/// `--engine`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EngineArg {
    Local,
    Postgis,
}

#[derive(Args)]
struct CompareArgs {
    #[arg(long, help = layer_help("Risk-area layer (of the after year; of both without --before-risk)"))]
    risk: PathBuf,
    #[arg(long, help = layer_help("Parcel layer of the earlier year"))]
    before: PathBuf,
    #[arg(long, help = layer_help("Parcel layer of the later year"))]
    after: PathBuf,
    /// Output folder (created if missing)
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_name = "SRC", help = layer_help("Risk-area layer of the earlier year, where it differs"))]
    before_risk: Option<PathBuf>,
    /// The land change survey's lineage (update-process) table, one row per before id and
    /// after id: .csv, .xlsx/.xls/.ods (FILE.xlsx/SHEET), .dbf or any layer's attributes
    #[arg(long, value_name = "TABLE")]
    lineage: Option<PathBuf>,
    /// The lineage table's before-id column (default: recognised: BGQTBBH, 变更前图斑编号,
    /// BEFORE_ID, OLD_ID)
    #[arg(long, value_name = "F", requires = "lineage")]
    lineage_before_field: Option<String>,
    /// The lineage table's after-id column (default: BGHTBBH, 变更后图斑编号, AFTER_ID, NEW_ID)
    #[arg(long, value_name = "F", requires = "lineage")]
    lineage_after_field: Option<String>,
    /// A measure ledger of the earlier year; repeatable
    #[arg(long = "before-ledger", value_name = "FILE")]
    before_ledgers: Vec<PathBuf>,
    /// A measure ledger of the later year; repeatable
    #[arg(long = "after-ledger", value_name = "FILE")]
    after_ledgers: Vec<PathBuf>,
    #[command(flatten)]
    options: Options,
    #[command(flatten)]
    report: ReportArgs,
}

/// `--report`: `report.pdf` in the output folder.
#[derive(Args, Clone)]
struct ReportArgs {
    /// Also write report.pdf: a cover with the rate, the province map and the region chart,
    /// the county table, and a page per region (with `compare`, year over year too)
    #[arg(long)]
    report: bool,
    /// The report's title
    #[arg(long, value_name = "TEXT", default_value = soilrisk::report::DEFAULT_TITLE, requires = "report")]
    title: String,
    /// The year the report accounts for (default: SOURCE_DATE_EPOCH's year where it is set,
    /// else the current year)
    #[arg(long, value_name = "YYYY", requires = "report", value_parser = clap::value_parser!(u16).range(1000..=9999))]
    year: Option<u16>,
    /// The date printed on the cover and written into the PDF (default: SOURCE_DATE_EPOCH's
    /// day where it is set, else the year alone, so a rerun gives the same bytes)
    #[arg(long, value_name = "YYYY-MM-DD", requires = "report", value_parser = soilrisk::report::ReportDate::parse)]
    date: Option<soilrisk::report::ReportDate>,
}

impl ReportArgs {
    /// The report's options, or `None` without `--report`.
    fn options(&self) -> Option<soilrisk::report::ReportOptions> {
        self.report.then(|| {
            // With SOURCE_DATE_EPOCH set, its year: a rerun next January gives the same bytes.
            let year = self.year.unwrap_or_else(|| {
                soilrisk::report::ReportDate::from_env()
                    .unwrap_or_else(soilrisk::report::ReportDate::today)
                    .year()
            });
            let mut o = soilrisk::report::ReportOptions::new(self.title.clone(), year);
            if let Some(d) = self.date {
                o.date = d;
            }
            o
        })
    }
}

/// The options of an analysis, the same for `analyze` and for both years of `compare`.
#[derive(Args, Clone)]
struct Options {
    /// Target safe-utilisation rate, a fraction (0.94 = 94%)
    #[arg(long, default_value_t = DEFAULT_TARGET, value_parser = parse_rate)]
    target: f64,
    #[arg(long, default_value = Role::RiskId.default_field())]
    risk_id_field: String,
    #[arg(long, default_value = Role::RiskClass.default_field())]
    risk_class_field: String,
    /// Pollutant field of the risk areas (used where the layer has it)
    #[arg(long, default_value = Role::Pollutant.default_field())]
    pollutant_field: String,
    #[arg(long, default_value = Role::ParcelId.default_field())]
    parcel_id_field: String,
    /// Region (county) field of the parcels
    #[arg(long, default_value = Role::Region.default_field())]
    region_field: String,
    #[arg(long, default_value = Role::Measure.default_field())]
    measure_field: String,
    /// Crop-compliance field of the parcels (off unless named)
    #[arg(long)]
    compliance_field: Option<String>,
    /// Map a risk-class value outside the vocabulary: VALUE=CLASS (CLASS 1, 2 or 3); repeatable
    #[arg(long = "map-class", value_name = "VALUE=CLASS")]
    map_class: Vec<String>,
    /// Map a measure value: VALUE=KIND (none, priority, safe_use, strict_control); repeatable
    #[arg(long = "map-measure", value_name = "VALUE=KIND")]
    map_measure: Vec<String>,
    /// Map a compliance value: VALUE=yes|no; repeatable
    #[arg(long = "map-compliance", value_name = "VALUE=yes|no")]
    map_compliance: Vec<String>,
    /// Text encoding of the risk layer's attributes, overriding .cpg and detection
    #[arg(long)]
    risk_encoding: Option<String>,
    /// Text encoding of the parcel layer's attributes, overriding .cpg and detection
    #[arg(long)]
    parcel_encoding: Option<String>,
    /// The area counted: planar (in the projected CRS), ellipsoidal (on the CRS's ellipsoid,
    /// as the land survey measures) or field:NAME (a surveyed area attribute in m², e.g.
    /// field:TBDLMJ, split among the classes by geometric shares). Default: planar in a
    /// projected CRS, ellipsoidal in longitude/latitude
    #[arg(long, value_name = "BASIS")]
    area: Option<AreaBasis>,
    /// The ledgers' parcel-id column (default: recognised by header: 标识码, 图斑编号, TBBH,
    /// BSM, PARCEL_ID)
    #[arg(long, value_name = "F")]
    ledger_id_field: Option<String>,
    /// The ledgers' measure column (default: 措施, 措施类型, MEASURE)
    #[arg(long, value_name = "F")]
    ledger_measure_field: Option<String>,
    /// The ledgers' crop-compliance column (default: 农产品是否达标, 是否达标, COMPLIANCE)
    #[arg(long, value_name = "F")]
    ledger_compliance_field: Option<String>,
    /// Regions from a code field's first digits (e.g. ZLDWDM, the land survey's 19-digit
    /// location code, whose first 6 digits are the county), instead of --region-field
    #[arg(long, value_name = "F")]
    region_code_field: Option<String>,
    /// How many first digits of --region-code-field make the region (6: county, 4: prefecture)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 6,
        requires = "region_code_field",
        value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..), usize::from)
    )]
    region_code_digits: usize,
    /// A boundary layer of regions (counties), any CRS: each parcel's region is the one
    /// holding its largest share; with --region-code-field, it names the codes
    #[arg(long, value_name = "SRC", requires = "regions_name_field")]
    regions: Option<PathBuf>,
    /// The boundary layer's name field
    #[arg(long, value_name = "F", requires = "regions")]
    regions_name_field: Option<String>,
    /// The boundary layer's code field (GB/T 2260), sorting the table and giving prefecture
    /// subtotals
    #[arg(long, value_name = "F", requires = "regions")]
    regions_code_field: Option<String>,
    /// What the boundary layer's coordinates are in, overriding its .prj: EPSG:N, or gcj02
    /// (Chinese web maps' offset coordinates)
    #[arg(long, value_name = "C", requires = "regions")]
    regions_crs: Option<String>,
    /// Print the time of each phase (read, index, overlay, statistics, export) to stderr
    #[arg(long)]
    timings: bool,
}

/// The `analyze` command's one-line help, naming the files of the output table.
fn analyze_about() -> String {
    let files: Vec<&str> = soilrisk::outputs::OUTPUTS
        .iter()
        .filter(|o| o.in_set)
        .map(|o| o.file_name)
        .collect();
    format!(
        "Overlay parcels with risk areas and write {} (and with --report, {})",
        files.join(", "),
        soilrisk::report::REPORT_PDF
    )
}

/// A layer argument's help, naming the formats of the registry.
fn layer_help(what: &str) -> String {
    format!(
        "{what}: {} (a layer inside a zip as archive.zip/member.shp), or a PostGIS table \
         as postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE (password from PGPASSWORD or \
         ~/.pgpass)",
        formats::extensions_text()
    )
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a rate between 0 and 1 (94% is 0.94)"))
    }
}

fn main() -> ExitCode {
    // clap exits with status 2 on bad usage, 0 for --help and --version.
    let cli = Cli::parse();
    let result = match cli.command {
        None => sample_dir().and_then(|d| window(d.join("risk_areas.shp"), d.join("parcels.shp"))),
        Some(Command::Open { risk, parcels }) => window(risk, parcels),
        Some(Command::Analyze(args)) => analyze(*args),
        Some(Command::Compare(args)) => compare(*args),
        Some(Command::Info { file, encoding }) => info(&file, encoding),
        Some(Command::Sample { out, parcels, seed }) => sample(&out, parcels, seed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soilrisk: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The bundled sample: beside the executable's source tree, or in the working directory.
fn sample_dir() -> Result<PathBuf> {
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data"),
        PathBuf::from("sample_data"),
    ];
    candidates
        .into_iter()
        .find(|d| d.join("risk_areas.shp").is_file())
        .context("the bundled sample_data folder was not found")
}

#[cfg(feature = "gui")]
fn window(risk: PathBuf, parcels: PathBuf) -> Result<()> {
    app::run(risk, parcels).map_err(anyhow::Error::msg)
}

/// Built without the window (`--no-default-features`): print the analysis instead.
#[cfg(not(feature = "gui"))]
fn window(risk: PathBuf, parcels: PathBuf) -> Result<()> {
    let analysis = run(&Request::new(risk, parcels), Control::default()).map_err(cli_hint)?;
    let mut out = String::from("(built without the window; the summary instead)\n");
    summary_text(&analysis.checked_summary(DEFAULT_TARGET), &mut out);
    emit(&out);
    Ok(())
}

/// The request for one year's layers under `options`.
fn request(
    o: &Options,
    risk: &Path,
    parcels: &Path,
    ledgers: &[PathBuf],
    keep_parcels: KeepParcels,
) -> Result<Request> {
    let mut maps = ValueMaps::default();
    for m in &o.map_class {
        maps.add_class(m).map_err(anyhow::Error::msg)?;
    }
    for m in &o.map_measure {
        maps.add_measure(m).map_err(anyhow::Error::msg)?;
    }
    for m in &o.map_compliance {
        maps.add_compliance(m).map_err(anyhow::Error::msg)?;
    }
    let mut fields = FieldMapping::default();
    for (role, name) in [
        (Role::RiskId, Some(o.risk_id_field.clone())),
        (Role::RiskClass, Some(o.risk_class_field.clone())),
        (Role::Pollutant, Some(o.pollutant_field.clone())),
        (Role::ParcelId, Some(o.parcel_id_field.clone())),
        (
            Role::Region,
            Some(
                o.region_code_field
                    .clone()
                    .unwrap_or_else(|| o.region_field.clone()),
            ),
        ),
        (Role::Measure, Some(o.measure_field.clone())),
        (Role::Compliance, o.compliance_field.clone()),
    ] {
        fields.set(role, name);
    }
    let req = Request {
        risk: risk.to_path_buf(),
        parcels: parcels.to_path_buf(),
        fields,
        maps,
        risk_read: ReadOptions {
            encoding: o.risk_encoding.clone(),
            ..Default::default()
        },
        parcel_read: ReadOptions {
            encoding: o.parcel_encoding.clone(),
            ..Default::default()
        },
        index_parcels: false,
        keep_parcels,
        area: o.area.clone(),
        region_code_digits: o.region_code_field.as_ref().map(|_| o.region_code_digits),
        regions: o.regions.as_ref().map(|path| RegionLayer {
            path: path.clone(),
            name_field: o.regions_name_field.clone().unwrap_or_default(),
            code_field: o.regions_code_field.clone(),
            crs: o.regions_crs.clone(),
            read: ReadOptions::default(),
        }),
        ledgers: ledgers.to_vec(),
        ledger_columns: LedgerColumns {
            id: o.ledger_id_field.clone(),
            measure: o.ledger_measure_field.clone(),
            compliance: o.ledger_compliance_field.clone(),
        },
        measure_edits: Vec::new(),
        engine: soilrisk::pipeline::Engine::Local,
    };
    Ok(req)
}

/// The files an analysis reads beside its layers (ledgers, the boundary layer): no output
/// may overwrite them either.
fn side_inputs(o: &Options, ledgers: &[&PathBuf]) -> Vec<PathBuf> {
    ledgers
        .iter()
        .map(|l| soilrisk::ledger::split_sheet(l).0)
        .chain(o.regions.clone())
        .collect()
}

fn analyze(args: AnalyzeArgs) -> Result<()> {
    // The exports need the parcels at risk only: the rest stream through.
    let mut req = request(
        &args.options,
        &args.risk,
        &args.parcels,
        &args.ledgers,
        KeepParcels::AtRisk,
    )?;
    if args.engine == EngineArg::Postgis {
        req.engine = soilrisk::pipeline::Engine::PostGis;
    }
    // Ledgers and the boundary layer are inputs too: no output may overwrite them.
    let side = side_inputs(&args.options, &args.ledgers.iter().collect::<Vec<_>>());
    let inputs: Vec<&Path> = [args.risk.as_path(), args.parcels.as_path()]
        .into_iter()
        .chain(side.iter().map(PathBuf::as_path))
        .collect();
    let report = args.report.options();
    let mut set = soilrisk::outputs::set_paths(&args.out);
    set.push(args.out.join(soilrisk::report::REPORT_PDF));
    soilrisk::outputs::refuse_overwriting_inputs(&set, &inputs)
        .map_err(|e| anyhow::anyhow!("{e}; choose another --out"))?;
    // (`write_set` checks again, for any other caller; this one fails before the analysis.)
    let write_back = args
        .write_back
        .as_ref()
        .map(|schema| soilrisk::write_back::server_of(&args.parcels, schema).map(|s| (s, schema)))
        .transpose()?;

    let started = Instant::now();
    let (mut analysis, footprints) = run_for_report(&req, report.is_some())?;

    let t = Instant::now();
    let (summary, mut outputs) = write_set(&args.out, &analysis, args.options.target, &inputs)?;
    analysis.timings.phases.push((Phase::Export, t.elapsed()));
    if let Some(opts) = &report {
        let t = Instant::now();
        let path = args.out.join(soilrisk::report::REPORT_PDF);
        let input = soilrisk::report::Input {
            analysis: &analysis,
            summary: &summary,
            compare: None,
            footprints: Some(&footprints),
        };
        for w in soilrisk::report::write(&path, &input, opts, Control::default())? {
            eprintln!("warning: {w}");
        }
        outputs.push(path);
        analysis.timings.phases.push((Phase::Report, t.elapsed()));
    }

    let mut written = None;
    if let Some((server, schema)) = &write_back {
        let t = Instant::now();
        written = Some(soilrisk::write_back::write_back(
            server,
            schema,
            &analysis,
            &summary,
            Control::default(),
        )?);
        analysis
            .timings
            .phases
            .push((Phase::WriteBack, t.elapsed()));
    }

    let mut out = String::new();
    summary_text(&summary, &mut out);
    out.push('\n');
    for o in &outputs {
        let _ = writeln!(out, "wrote {}", o.display());
    }
    if let (Some(w), Some((server, _))) = (&written, &write_back) {
        let _ = writeln!(
            out,
            "wrote {} ({} parcels) and {} ({} regions) in {}",
            w.tables[0],
            w.parcels,
            w.tables[1],
            w.regions,
            server.url()
        );
    }
    emit(&out);
    if args.options.timings {
        print_timings(&analysis, started.elapsed().as_secs_f64());
    }
    // Freeing a million small geometries one by one takes longer than the analysis' statistics;
    // the process ends here and the OS takes the memory back at once.
    std::mem::forget(analysis);
    Ok(())
}

/// Runs `req`; with `report`, also catches the footprints of the parcels as they are read:
/// the report draws the land with no risk from them, which the analysis does not keep.
fn run_for_report(
    req: &Request,
    report: bool,
) -> Result<(Analysis, soilrisk::report::footprint::Footprints)> {
    use soilrisk::report::footprint::Footprints;
    let footprints = std::sync::Mutex::new(Footprints::default());
    let collect = Footprints::collect(&footprints);
    let ctl = Control {
        arrived: report.then_some(&collect as _),
        ..Control::default()
    };
    let analysis = run(req, ctl).map_err(cli_hint)?;
    drop(collect);
    Ok((analysis, footprints.into_inner().unwrap_or_default()))
}

/// Bytes of shapes `compare` reads at a time from each year's parcel layer.
const COMPARE_BATCH_BYTES: usize = 8 << 20;

fn compare(args: CompareArgs) -> Result<()> {
    use soilrisk::compare::output::{
        CHANGES_GEOJSON, COMPARE_JSON, CompareSummary, write_changes, write_compare_json,
    };
    use soilrisk::compare::{Comparison, Lineage, LineageColumns};
    let o = &args.options;
    let before_risk = args.before_risk.as_deref().unwrap_or(&args.risk);
    let before = request(
        o,
        before_risk,
        &args.before,
        &args.before_ledgers,
        KeepParcels::Shapes,
    )?;
    let after = request(
        o,
        &args.risk,
        &args.after,
        &args.after_ledgers,
        KeepParcels::Shapes,
    )?;
    // Two years are held at once: each is read in smaller batches than `analyze` reads (a
    // batch in hand and one read ahead cost some 300 MiB at 32 MiB of shapes each).
    let (mut before, mut after) = (before, after);
    for r in [&mut before, &mut after] {
        r.parcel_read.batch_bytes = Some(COMPARE_BATCH_BYTES);
    }
    let mut side = side_inputs(
        o,
        &args
            .before_ledgers
            .iter()
            .chain(&args.after_ledgers)
            .collect::<Vec<_>>(),
    );
    side.extend(
        args.lineage
            .iter()
            .map(|l| soilrisk::ledger::split_sheet(l).0),
    );
    let inputs: Vec<&Path> = [
        args.risk.as_path(),
        before_risk,
        args.before.as_path(),
        args.after.as_path(),
    ]
    .into_iter()
    .chain(side.iter().map(PathBuf::as_path))
    .collect();
    let report = args.report.options();
    let files = [COMPARE_JSON, CHANGES_GEOJSON, "regions.csv", "tables.xlsx"];
    let mut paths: Vec<PathBuf> = files.iter().map(|f| args.out.join(f)).collect();
    if report.is_some() {
        paths.push(args.out.join(soilrisk::report::REPORT_PDF));
    }
    soilrisk::outputs::refuse_overwriting_inputs(&paths, &inputs)
        .map_err(|e| anyhow::anyhow!("{e}; choose another --out"))?;

    let started = Instant::now();
    let lineage = args
        .lineage
        .as_deref()
        .map(|l| {
            Lineage::read(
                l,
                &LineageColumns {
                    before: args.lineage_before_field.clone(),
                    after: args.lineage_after_field.clone(),
                },
            )
        })
        .transpose()?;
    let mut steps: Vec<(&str, f64)> = Vec::new();
    let mut lap = Instant::now();
    let mut step = |name, steps: &mut Vec<(&str, f64)>| {
        steps.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };
    let mut a_before = run(&before, Control::default()).map_err(cli_hint)?;
    step("before", &mut steps);
    let (mut a_after, footprints) = run_for_report(&after, report.is_some())?;
    step("after", &mut steps);
    soilrisk::compare::restore_needed(
        &before,
        &mut a_before,
        &after,
        &mut a_after,
        lineage.as_ref(),
        Control::default(),
    )?;
    step("read back", &mut steps);
    let c = Comparison::new(
        &a_before,
        &a_after,
        args.before_risk.is_none(),
        lineage.as_ref(),
        Control::default(),
    )?;
    step("land and matches", &mut steps);
    let summary = CompareSummary::new(&a_before, &a_after, &c, o.target);
    step("summaries", &mut steps);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let to = soilrisk::outputs::to_wgs84(&a_after)?;
    write_compare_json(&paths[0], &summary)?;
    write_changes(&paths[1], &a_before, &a_after, &c, &to, Control::default())?;
    soilrisk::table::write_csv_compared(&paths[2], &summary)?;
    soilrisk::table::write_xlsx_compared(&paths[3], &summary)?;
    step("export", &mut steps);
    if let Some(opts) = &report {
        let input = soilrisk::report::Input {
            analysis: &a_after,
            summary: &summary.after,
            compare: Some(soilrisk::report::CompareInput {
                before: &a_before,
                comparison: &c,
                summary: &summary,
            }),
            footprints: Some(&footprints),
        };
        for w in soilrisk::report::write(&paths[4], &input, opts, Control::default())? {
            eprintln!("warning: {w}");
        }
        step("report", &mut steps);
    }

    let mut out = String::new();
    compare_text(&summary, &mut out);
    out.push('\n');
    for p in &paths {
        let _ = writeln!(out, "wrote {}", p.display());
    }
    emit(&out);
    if o.timings {
        let peak = peak_memory_mib().map_or_else(String::new, |m| format!(", peak memory {m} MiB"));
        let steps: Vec<String> = steps
            .iter()
            .map(|(name, s)| format!("{name} {s:.3} s"))
            .collect();
        eprintln!(
            "timings: {}, total {:.3} s{peak}",
            steps.join(", "),
            started.elapsed().as_secs_f64()
        );
    }
    std::mem::forget((a_before, a_after, c));
    Ok(())
}

/// The comparison in a few lines: the rate of both years, the causes, the changes, and each
/// region's rates.
fn compare_text(s: &soilrisk::compare::output::CompareSummary, out: &mut String) {
    let (b, a) = (&s.before, &s.after);
    let _ = writeln!(
        out,
        "safe-utilisation rate  {} -> {} ({})",
        pct(b.safe_utilization_rate),
        pct(a.safe_utilization_rate),
        s.rate_change
            .map_or_else(|| "n/a".into(), |d| format!("{:+.2} points", d * 100.0))
    );
    let _ = writeln!(
        out,
        "contaminated land      {} -> {}",
        area(b.contaminated_area_m2),
        area(a.contaminated_area_m2)
    );
    let c = &s.causes;
    let _ = writeln!(out, "why (land):");
    for (label, m2) in [
        ("  newly treated        ", c.newly_treated_m2),
        ("  lost treatment       ", 0.0 - c.lost_treatment_m2),
        ("  new risk areas       ", c.new_risk_m2),
        ("  new parcels          ", c.new_parcels_m2),
        ("  risk lifted          ", 0.0 - c.risk_lifted_m2),
        ("  removed parcels      ", 0.0 - c.removed_parcels_m2),
    ] {
        // Below half a square metre is the clippers' rounding: shown as 0, not -0.00.
        let m2 = if m2.abs() < 0.5 { 0.0 } else { m2 };
        let _ = writeln!(out, "{label}{}", area(m2));
    }
    let changes: Vec<String> = s.changes.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(out, "parcels changed: {}", changes.join(", "));
    let width = s
        .by_region
        .iter()
        .map(|r| columns(&r.region))
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(
        out,
        "\n{}  {:>9} {:>9} {:>9}",
        pad("region", width),
        "before",
        "after",
        "change"
    );
    for r in &s.by_region {
        let _ = writeln!(
            out,
            "{}  {:>9} {:>9} {:>9}",
            pad(&r.region, width),
            pct(r.rate_before),
            pct(r.rate_after),
            r.rate_change
                .map_or_else(|| "n/a".into(), |d| format!("{:+.2}", d * 100.0))
        );
    }
    for w in &s.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
}

/// The command line's way of mapping unknown values, added to the engine's message.
fn cli_hint(e: AnalysisError) -> anyhow::Error {
    let AnalysisError::UnknownValues(u) = &e else {
        return e.into();
    };
    let UnknownValues { role, path, .. } = &**u;
    let def = role.def();
    let flag = match def.vocabulary {
        Some(Vocabulary::RiskClass) => "--map-class VALUE=CLASS (CLASS: 1, 2 or 3)",
        Some(Vocabulary::Measure) => {
            "--map-measure VALUE=KIND (KIND: none, priority, safe_use or strict_control)"
        }
        Some(Vocabulary::Compliance) => "--map-compliance VALUE=yes|no",
        None => return e.into(),
    };
    let encoding = match def.side {
        Side::Risk => "--risk-encoding",
        Side::Parcels => "--parcel-encoding",
    };
    let fix = if u.garbled.is_some() {
        format!(
            "give the layer's text encoding (e.g. GBK) with {encoding}, or map each with {flag}"
        )
    } else {
        format!("map each with {flag}")
    };
    anyhow::anyhow!("{}; {fix}: {}", u.describe(), path.display())
}

fn print_timings(a: &Analysis, total_s: f64) {
    let phases: Vec<String> = a
        .timings
        .phases
        .iter()
        .map(|(p, d)| format!("{} {:.3} s", p.name(), d.as_secs_f64()))
        .collect();
    let peak = peak_memory_mib().map_or_else(String::new, |m| format!(", peak memory {m} MiB"));
    eprintln!("timings: {}, total {total_s:.3} s{peak}", phases.join(", "));
}

/// Peak resident memory of this process (Linux), in MiB.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Terminal columns `text` takes (CJK characters take two).
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if ('\u{2e80}'..='\u{ffef}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// `text` padded on the right to `width` columns.
fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(columns(text))))
}

/// `text` padded on the left to `width` columns.
fn lpad(text: &str, width: usize) -> String {
    format!("{}{text}", " ".repeat(width.saturating_sub(columns(text))))
}

/// Writes to stdout; a closed pipe (`soilrisk info x.shp | head`) is not an error.
fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn area(m2: f64) -> String {
    format!("{:>14.2} ha {:>16.1} 亩", m2 / M2_PER_HA, m2 / M2_PER_MU)
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{:.2}%", r * 100.0))
}

fn summary_text(s: &Summary, out: &mut String) {
    let _ = writeln!(
        out,
        "{} parcels, {} risk areas; CRS {}; area basis {} ({} geometry)",
        s.parcels, s.risk_areas, s.crs, s.area_basis, s.area_method
    );
    let _ = writeln!(out, "cultivated land        {}", area(s.cultivated_area_m2));
    let _ = writeln!(
        out,
        "in risk areas          {}   ({} parcels)",
        area(s.contaminated_area_m2),
        s.parcels_at_risk
    );
    let _ = writeln!(out, "  class I  priority    {}", area(s.priority_area_m2));
    let _ = writeln!(out, "  class II safe use    {}", area(s.safe_use_area_m2));
    let _ = writeln!(
        out,
        "  class III strict     {}",
        area(s.strict_control_area_m2)
    );
    let _ = writeln!(out, "treated                {}", area(s.treated_area_m2));
    let _ = writeln!(
        out,
        "  B class I  protected {}",
        area(s.priority_treated_area_m2)
    );
    let _ = writeln!(
        out,
        "  C class II complied  {}",
        area(s.safe_use_treated_area_m2)
    );
    let _ = writeln!(
        out,
        "  D class III strict   {}",
        area(s.strict_control_treated_area_m2)
    );
    let _ = writeln!(out, "untreated              {}", area(s.untreated_area_m2));
    let _ = writeln!(
        out,
        "safe-utilisation rate  {} (target {})",
        pct(s.safe_utilization_rate),
        pct(Some(s.target_rate))
    );
    let _ = writeln!(
        out,
        "gap to target          {}   ({} parcels close it)",
        area(s.gap_to_target_m2),
        s.parcels_to_close_gap
    );
    if !s.by_region.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{} {:>8} {:>8} {} {} {:>9} {}",
            pad("region", 12),
            "parcels",
            "at risk",
            lpad("contam. (亩)", 14),
            lpad("treated (亩)", 14),
            "rate",
            lpad("gap (亩)", 12)
        );
        for r in &s.by_region {
            let _ = writeln!(
                out,
                "{} {:>8} {:>8} {:>14.1} {:>14.1} {:>9} {:>12.1}",
                pad(&r.region, 12),
                r.parcels,
                r.parcels_at_risk,
                r.contaminated_area_m2 / M2_PER_MU,
                r.treated_area_m2 / M2_PER_MU,
                pct(r.safe_utilization_rate),
                r.gap_to_target_m2 / M2_PER_MU
            );
        }
    }
    if !s.warnings.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{} warning(s):", s.warnings.len());
        for w in s.warnings.iter().take(10) {
            let _ = writeln!(out, "  {w}");
        }
        if s.warnings.len() > 10 {
            let _ = writeln!(out, "  ... (all are in summary.json)");
        }
    }
}

fn info(file: &Path, encoding: Option<String>) -> Result<()> {
    if soilrisk::ledger::is_ledger_path(file) {
        if encoding.is_some() {
            anyhow::bail!(
                "--encoding is for layers; a ledger's encoding is detected \
                 (UTF-8, GBK/GB18030, else Windows-1252): {}",
                file.display()
            );
        }
        return ledger_info(file);
    }
    let format = if soilrisk::io::postgis::is_url(file) {
        soilrisk::io::postgis::FORMAT_NAME.to_string()
    } else {
        match container_info(file)? {
            Some(format) => format,
            None => return Ok(()),
        }
    };
    let layer = read_layer(
        file,
        &ReadOptions {
            encoding,
            ..Default::default()
        },
    )?;
    let mut out = String::new();
    let _ = writeln!(out, "file:       {}", layer.path.display());
    let _ = writeln!(out, "format:     {format}");
    let _ = writeln!(out, "geometry:   {}", layer.geometry_type);
    let _ = writeln!(out, "features:   {}", layer.features.len());
    let _ = writeln!(
        out,
        "crs:        {}",
        layer
            .crs
            .as_ref()
            .map_or_else(|| "unknown".to_string(), |c| c.label())
    );
    let _ = writeln!(
        out,
        "encoding:   {}",
        layer.encoding.as_deref().unwrap_or("none (no attributes)")
    );
    let _ = match layer.extent() {
        Some(e) => writeln!(
            out,
            "extent:     ({}, {}) - ({}, {})",
            e.min().x,
            e.min().y,
            e.max().x,
            e.max().y
        ),
        None => writeln!(out, "extent:     empty"),
    };
    let _ = writeln!(out, "fields:     {}", layer.fields.len());
    for (i, f) in layer.fields.iter().enumerate() {
        let example = layer
            .features
            .iter()
            .map(|feat| layer.text(feat, i))
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        let _ = writeln!(out, "  {:<12} {:<8} e.g. {example}", f.name, f.kind.name());
    }
    let _ = writeln!(out, "warnings:   {}", layer.warnings.len());
    for w in &layer.warnings {
        let _ = writeln!(out, "  {w}");
    }
    emit(&out);
    Ok(())
}

/// The format of the file layer `file` names, or `None` when it is a container of several
/// layers, which are listed (as ogrinfo lists them).
fn container_info(file: &Path) -> Result<Option<String>> {
    let mut resolved = formats::resolve(file)?;
    // A container of several layers: list them, as ogrinfo does; of one, name what it holds.
    if resolved.format.is_container() && resolved.layer.is_none() {
        // The container itself: a file picked inside a geodatabase folder lists the folder.
        let layers = resolved.format.layers(&resolved.main)?;
        if let [one] = layers.as_slice() {
            resolved.inner = formats::opening(one);
        }
        if layers.len() > 1 {
            let mut out = String::new();
            let _ = writeln!(out, "file:       {}", resolved.main.display());
            let _ = writeln!(out, "format:     {}", resolved.describe());
            let _ = writeln!(out, "layers:     {}", layers.len());
            for l in &layers {
                let _ = writeln!(out, "  {}", resolved.main.join(l).display());
            }
            emit(&out);
            return Ok(None);
        }
    }
    Ok(Some(resolved.describe()))
}

/// `info` on a measure ledger: its sheets, rows and columns, and which columns the
/// analysis would take as the parcel id, the measure and the compliance.
fn ledger_info(file: &Path) -> Result<()> {
    let l = soilrisk::ledger::describe_ledger(file)?;
    let mut out = String::new();
    let _ = writeln!(out, "file:       {}", l.path.display());
    let _ = writeln!(out, "format:     {}", l.format);
    if !l.sheets.is_empty() {
        let _ = writeln!(out, "sheets:     {}", l.sheets.join(", "));
    }
    if let Some(sheet) = &l.sheet {
        let _ = writeln!(out, "sheet:      {sheet}");
    }
    if let Some(e) = &l.encoding {
        let _ = writeln!(out, "encoding:   {e}");
    }
    if let Some(d) = l.delimiter {
        let name = match d {
            ',' => "comma",
            ';' => "semicolon",
            _ => "tab",
        };
        let _ = writeln!(out, "delimiter:  {name}");
    }
    let _ = writeln!(out, "rows:       {}", l.rows);
    let _ = writeln!(out, "columns:    {}", l.header.len());
    let width = l
        .header
        .iter()
        .map(|h| columns(h))
        .max()
        .unwrap_or(0)
        .max(12);
    for (i, h) in l.header.iter().enumerate() {
        let role = l
            .role_of(i)
            .map(|r| format!("[{}]", r.def().name))
            .unwrap_or_default();
        let name = if h.is_empty() { "(blank)" } else { h };
        let line = format!("  {} {role}", pad(name, width));
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if l.id_column.is_none() {
        let _ = writeln!(
            out,
            "no parcel id column recognised: name it with --ledger-id-field"
        );
    }
    emit(&out);
    Ok(())
}

fn sample(out: &Path, parcels: usize, seed: u64) -> Result<()> {
    let report = write_sample(out, &SampleOptions { parcels, seed })?;
    let second = &report.second_year;
    emit(&format!(
        "wrote {} risk areas to {}\nwrote {} parcels to {}\nwrote {} counties to {}\nwrote {} ledger rows to {}\n\
         wrote {} second-year parcels to {} ({} split, {} merged, {} removed, {} measures changed, {} new)\n\
         wrote {} second-year risk areas to {} ({} new)\nwrote {} lineage rows to {}\n",
        report.risk_areas,
        report.risk_path.display(),
        report.parcels,
        report.parcels_path.display(),
        report.counties,
        report.counties_path.display(),
        report.ledger_rows,
        report.ledger_path.display(),
        second.parcels,
        second.parcels_path.display(),
        second.splits,
        second.merges,
        second.removals,
        second.measure_changes,
        second.new_parcels,
        second.risk_areas,
        second.risk_path.display(),
        second.new_risk_areas,
        second.lineage_rows,
        second.lineage_path.display(),
    ));
    Ok(())
}
