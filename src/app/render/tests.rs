//! The map picture's tests: colours where the features lie, level of detail, culling,
//! previews, cancelling, threads.

use super::*;
use geo::{Area, InteriorPoint};
use soilrisk::pipeline::{Control, Request, run};

fn sample_scene() -> MapScene {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    MapScene::build(Arc::new(run(&req, Control::default()).unwrap()))
}

fn request(view: Rect<f64>, width: u32, height: u32, style: LayerStyle) -> RenderRequest {
    RenderRequest {
        view,
        width,
        height,
        pixels_per_point: 1.0,
        style,
    }
}

/// A square view of `side` map units around `at`.
fn around(at: geo::Point<f64>, side: f64) -> Rect<f64> {
    Rect::new(
        (at.x() - side / 2.0, at.y() - side / 2.0),
        (at.x() + side / 2.0, at.y() + side / 2.0),
    )
}

fn pixel(img: &ColorImage, x: usize, y: usize) -> Color32 {
    img.pixels[y * img.size[0] + x]
}

/// `fill` at `opacity` over `under`, as 8-bit channels.
fn over(fill: Color32, opacity: f32, under: Color32) -> Color32 {
    let a = f32::from((opacity * 255.0) as u8) / 255.0;
    let mix = |f: u8, u: u8| (f32::from(f) * a + f32::from(u) * (1.0 - a)).round() as u8;
    Color32::from_rgb(
        mix(fill.r(), under.r()),
        mix(fill.g(), under.g()),
        mix(fill.b(), under.b()),
    )
}

fn close(a: Color32, b: Color32) -> bool {
    a.to_array()
        .iter()
        .zip(b.to_array())
        .all(|(x, y)| x.abs_diff(y) <= 2)
}

fn nothing() -> &'static (dyn Fn() -> bool + Sync) {
    &|| false
}

#[test]
fn a_parcel_is_drawn_in_its_status_colour_where_it_lies() {
    let scene = sample_scene();
    let a = scene.analysis.as_ref().unwrap();
    // The largest parcel outside every risk area, and one at risk and untreated.
    for wanted in [ParcelStatus::NoRisk, ParcelStatus::Untreated] {
        let i = (0..a.parcel_info.len())
            .filter(|&i| scene.status(i) == wanted)
            .max_by(|&x, &y| {
                a.parcel_results[x]
                    .area_m2
                    .total_cmp(&a.parcel_results[y].area_m2)
            })
            .unwrap();
        let g = &a.parcels.features[a.parcel_info[i].feature].geometry;
        let at = g.interior_point().unwrap();
        let side = g.unsigned_area().sqrt() * 3.0;
        let img = render(
            &scene,
            &request(
                around(at, side),
                201,
                201,
                LayerStyle {
                    show_risk: false,
                    ..LayerStyle::default()
                },
            ),
            nothing(),
        )
        .unwrap();
        assert_eq!(img.size, [201, 201]);
        let want = over(wanted.fill(), style::PARCEL_OPACITY, style::MAP_BACKGROUND);
        let got = pixel(&img, 100, 100);
        assert!(close(got, want), "{wanted:?}: {got:?}, not {want:?}");
    }
}

#[test]
fn deep_inside_a_risk_area_the_whole_picture_is_its_fill() {
    // At a millimetre a pixel the area's outline lies a million pixels out: it is cut to
    // the picture before it is filled.
    let scene = sample_scene();
    let a = scene.analysis.as_ref().unwrap();
    let face = a
        .map
        .faces
        .iter()
        .filter(|f| f.risks.len() == 1)
        .max_by(|x, y| {
            x.polygon
                .unsigned_area()
                .total_cmp(&y.polygon.unsigned_area())
        })
        .unwrap();
    let at = face.polygon.interior_point().unwrap();
    let class = a.risk_areas[face.risks[0] as usize].class;
    let img = render(
        &scene,
        &request(
            around(at, 0.064),
            64,
            64,
            LayerStyle {
                show_parcels: false,
                ..LayerStyle::default()
            },
        ),
        nothing(),
    )
    .unwrap();
    let want = over(risk_fill(class), style::RISK_OPACITY, style::MAP_BACKGROUND);
    assert!(
        img.pixels.iter().all(|&p| close(p, want)),
        "{:?}",
        pixel(&img, 0, 0)
    );
}

#[test]
fn hidden_layers_leave_the_background() {
    let scene = sample_scene();
    let style_ = LayerStyle {
        show_risk: false,
        show_parcels: false,
        ..LayerStyle::default()
    };
    let img = render(
        &scene,
        &request(scene.extent.unwrap(), 80, 60, style_),
        nothing(),
    )
    .unwrap();
    assert!(img.pixels.iter().all(|&p| p == style::MAP_BACKGROUND));
}

#[test]
fn far_out_each_parcel_is_a_dot_where_it_lies() {
    let scene = sample_scene();
    let e = scene.extent.unwrap();
    let (w, h) = (60u32, 40u32);
    // Fit the extent's width; the view is as tall as the pixels are.
    let k = f64::from(w) / e.width();
    let view = Rect::new(
        (e.min().x, e.max().y - f64::from(h) / k),
        (e.max().x, e.max().y),
    );
    let req = request(
        view,
        w,
        h,
        LayerStyle {
            show_risk: false,
            ..LayerStyle::default()
        },
    );
    let img = render(&scene, &req, nothing()).unwrap();
    // Which pixels hold a parcel centre, and which have none within two pixels.
    let mut near = vec![false; (w * h) as usize];
    let mut centres = Vec::new();
    for b in &scene.parcel_boxes {
        let x = ((b[0] + b[2]) / 2.0 - view.min().x) * k;
        let y = (view.max().y - (b[1] + b[3]) / 2.0) * k;
        assert!(
            (b[2] - b[0]).max(b[3] - b[1]) * k < DOT_PX,
            "the parcels are dots here"
        );
        if x < 0.0 || y < 0.0 || x >= f64::from(w) || y >= f64::from(h) {
            continue;
        }
        centres.push((x as usize, y as usize));
        for dy in -2..=2i64 {
            for dx in -2..=2i64 {
                let (px, py) = (x as i64 + dx, y as i64 + dy);
                if (0..i64::from(w)).contains(&px) && (0..i64::from(h)).contains(&py) {
                    near[(py * i64::from(w) + px) as usize] = true;
                }
            }
        }
    }
    assert!(centres.len() > 100);
    for (x, y) in centres {
        assert_ne!(
            pixel(&img, x, y),
            style::MAP_BACKGROUND,
            "no dot at {x},{y}"
        );
    }
    let empty: Vec<usize> = (0..near.len()).filter(|&i| !near[i]).collect();
    assert!(!empty.is_empty());
    assert!(
        empty
            .iter()
            .all(|&i| img.pixels[i] == style::MAP_BACKGROUND)
    );
}

#[test]
fn the_picture_is_the_same_whatever_the_number_of_threads() {
    let scene = sample_scene();
    let e = scene.extent.unwrap();
    let req = request(
        around(e.center().into(), e.width() / 5.0),
        240,
        180,
        LayerStyle::default(),
    );
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| render(&scene, &req, nothing()).unwrap())
    };
    let one = on(1);
    assert!(one.pixels.iter().any(|&p| p != style::MAP_BACKGROUND));
    assert!(one.pixels == on(3).pixels);
    assert!(one.pixels == on(8).pixels);
}

#[test]
fn a_preview_draws_the_risk_areas_and_the_parcels_boxes_read_so_far() {
    let scene = sample_scene();
    let a = scene.analysis.as_ref().unwrap();
    let risk: Vec<_> = a
        .risk_areas
        .iter()
        .map(|r| (a.risk.features[r.feature].geometry.clone(), r.class))
        .collect();
    // The first half of the parcels has been read.
    let half = scene.parcel_boxes.len() / 2;
    let preview = MapScene::preview(Arc::new(risk), scene.parcel_boxes[..half].to_vec());
    assert!(preview.analysis.is_none());
    let e = preview.extent.unwrap();
    assert!(rect_contains(&scene.extent.unwrap(), &e));
    let style_ = LayerStyle {
        show_risk: false,
        ..LayerStyle::default()
    };
    let pending = over(
        style::PARCEL_PENDING,
        style::PARCEL_OPACITY,
        style::MAP_BACKGROUND,
    );
    // A parcel read is its box in the pending colour, one not read yet is not drawn (one
    // whose centre no box read covers).
    let centre_of = |b: [f64; 4]| [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
    let unread = (half..scene.parcel_boxes.len())
        .find(|&i| {
            let c = centre_of(scene.parcel_boxes[i]);
            let pad = (scene.parcel_boxes[i][2] - scene.parcel_boxes[i][0]) * 0.75;
            scene.parcel_boxes[..half].iter().all(|b| {
                c[0] + pad < b[0] || c[0] - pad > b[2] || c[1] + pad < b[1] || c[1] - pad > b[3]
            })
        })
        .unwrap();
    for (i, read) in [(0, true), (unread, false)] {
        let b = scene.parcel_boxes[i];
        let centre = geo::Point::new((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        let side = (b[2] - b[0]).max(b[3] - b[1]) * 1.5;
        let img = render(
            &preview,
            &request(around(centre, side), 31, 31, style_),
            nothing(),
        )
        .unwrap();
        let got = pixel(&img, 15, 15);
        if read {
            assert!(close(got, pending), "{got:?}");
        } else {
            assert!(!close(got, pending), "{got:?}");
        }
    }
    // The risk areas are drawn as in the analysed scene.
    let whole = request(
        scene.extent.unwrap(),
        120,
        90,
        LayerStyle {
            show_parcels: false,
            ..LayerStyle::default()
        },
    );
    assert!(same_picture(&preview, &scene, &whole));
}

fn same_picture(a: &MapScene, b: &MapScene, req: &RenderRequest) -> bool {
    let (a, b) = (
        render(a, req, nothing()).unwrap(),
        render(b, req, nothing()).unwrap(),
    );
    a.size == b.size && a.pixels == b.pixels
}

#[test]
fn the_parcels_under_a_point_are_the_same_before_and_after_the_index() {
    let scene = sample_scene();
    let points: Vec<[f64; 2]> = scene
        .parcel_boxes
        .iter()
        .step_by(97)
        .map(|b| [(b[0] + b[2]) / 2.0, b[1] + (b[3] - b[1]) * 0.9])
        .collect();
    let hits = || -> Vec<Vec<u32>> {
        points
            .iter()
            .map(|p| scene.parcels_at(p[0], p[1]))
            .collect()
    };
    let scanned = hits();
    assert!(scanned.iter().all(|h| !h.is_empty()));
    assert_eq!(scene.build_index().len(), scene.parcel_boxes.len());
    assert_eq!(scanned, hits());
    // The same picture with the index as without (the R-tree only picks what is in view).
    let e = scene.extent.unwrap();
    let req = request(
        around(e.center().into(), e.width() / 8.0),
        160,
        120,
        LayerStyle::default(),
    );
    assert!(same_picture(&scene, &sample_scene(), &req));
}

#[test]
fn a_finished_picture_asks_for_one_frame_not_two() {
    // `request_repaint` would ask for two frames, and where the window is drawn in
    // software each costs CPU. The renderer asks with a small delay: one frame.
    let ctx = egui::Context::default();
    let delays = Arc::new(Mutex::new(Vec::new()));
    let seen = delays.clone();
    ctx.set_request_repaint_callback(move |info| {
        if let Ok(mut d) = seen.lock() {
            d.push(info.delay);
        }
    });
    let mut renderer = Renderer::start(&ctx);
    let scene = Arc::new(sample_scene());
    renderer.request(
        &scene,
        request(scene.extent.unwrap(), 64, 64, LayerStyle::default()),
    );
    let started = std::time::Instant::now();
    while !renderer.up_to_date() {
        assert!(started.elapsed().as_secs() < 60, "no picture");
        std::thread::sleep(std::time::Duration::from_millis(5));
        renderer.poll(&ctx);
    }
    let delays = delays.lock().unwrap();
    assert!(!delays.is_empty(), "the picture asked for no frame");
    assert!(
        delays.iter().all(|d| !d.is_zero()),
        "an immediate repaint (two frames) was asked for: {delays:?}"
    );
}

#[test]
fn a_cancelled_picture_is_dropped() {
    let scene = sample_scene();
    let req = request(scene.extent.unwrap(), 100, 100, LayerStyle::default());
    assert!(render(&scene, &req, &|| true).is_none());
}

#[test]
fn rings_far_out_are_cut_to_the_band_and_its_margin() {
    let (mut ring, mut scratch) = (
        vec![[-1e7, -1e7], [1e7, -1e7], [1e7, 1e7], [-1e7, 1e7]],
        Vec::new(),
    );
    clip_ring(&mut ring, &mut scratch, 100.0, 50.0);
    let area = |r: &[[f64; 2]]| {
        (0..r.len())
            .map(|i| {
                let (a, b) = (r[i], r[(i + 1) % r.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum::<f64>()
            / 2.0
    };
    let m = CLIP_MARGIN;
    assert!((area(&ring) - (100.0 + 2.0 * m) * (50.0 + 2.0 * m)).abs() < 1e-6);
    assert!(
        ring.iter()
            .all(|p| (-m..=100.0 + m).contains(&p[0]) && (-m..=50.0 + m).contains(&p[1]))
    );
    // A ring inside is kept as it is; one wholly outside vanishes.
    let inside = vec![[1.0, 1.0], [9.0, 1.0], [5.0, 7.0]];
    let mut r = inside.clone();
    clip_ring(&mut r, &mut scratch, 100.0, 50.0);
    assert_eq!(r, inside);
    let mut r = vec![[500.0, 1.0], [900.0, 1.0], [700.0, 7.0]];
    clip_ring(&mut r, &mut scratch, 100.0, 50.0);
    assert!(r.is_empty());
}

#[test]
fn the_change_map_colours_a_split_parcel_and_picks_a_removed_one_where_it_was() {
    use crate::app::map::{Pick, pick};
    use soilrisk::compare::{ChangeKind, Comparison, Lineage, LineageColumns};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let analyse = |risk: &str, parcels: &str| {
        let req = Request::new(dir.join(risk), dir.join(parcels));
        Arc::new(run(&req, Control::default()).unwrap())
    };
    let before = analyse("risk_areas.shp", "parcels.shp");
    let after = analyse("risk_areas_2024.shp", "parcels_2024.shp");
    let lineage = Lineage::read(&dir.join("lineage_2024.csv"), &LineageColumns::default()).unwrap();
    let c = Comparison::new(&before, &after, false, Some(&lineage), Control::default()).unwrap();
    let scene = MapScene::changes(after.clone(), before.clone(), &c.matches);
    let style = LayerStyle {
        show_risk: false,
        ..LayerStyle::default()
    };

    // The largest split parcel, in the split colour at its interior point.
    let k = c
        .matches
        .changes
        .iter()
        .filter(|ch| ch.kind == ChangeKind::Split)
        .filter_map(|ch| ch.after.map(|a| a as usize))
        .max_by(|&x, &y| {
            after.parcel_results[x]
                .area_m2
                .total_cmp(&after.parcel_results[y].area_m2)
        })
        .unwrap();
    assert_eq!(scene.change(k), Some(ChangeKind::Split));
    let g = &after.parcels.features[after.parcel_info[k].feature].geometry;
    let at = g.interior_point().unwrap();
    let img = render(
        &scene,
        &request(around(at, g.unsigned_area().sqrt() * 3.0), 201, 201, style),
        nothing(),
    )
    .unwrap();
    let (fill, share) = style::change_fill(Some(ChangeKind::Split));
    let want = over(fill, style::PARCEL_OPACITY * share, style::MAP_BACKGROUND);
    let got = pixel(&img, 100, 100);
    assert!(close(got, want), "{got:?}, not {want:?}");
    assert_eq!(pick(&scene, [at.x(), at.y()], style), Some(Pick::After(k)));

    // A removed parcel where no parcel of the after year lies is picked as removed.
    let removed = c
        .matches
        .changes
        .iter()
        .filter(|ch| ch.kind == ChangeKind::Removed)
        .find_map(|ch| {
            let b = ch.before[0] as usize;
            let g = &before.parcels.features[before.parcel_info[b].feature].geometry;
            let p = g.interior_point()?;
            let free = scene.parcels_at(p.x(), p.y()).iter().all(|&i| {
                let ga = &after.parcels.features[after.parcel_info[i as usize].feature].geometry;
                !soilrisk::geom::rings::point_in_multi_polygon(p.0, ga)
            });
            free.then_some((b, p))
        })
        .expect("a removed parcel with no after-year parcel over it");
    assert_eq!(
        pick(&scene, [removed.1.x(), removed.1.y()], style),
        Some(Pick::Removed(removed.0))
    );
}
