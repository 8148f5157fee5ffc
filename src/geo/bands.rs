//! Point in polygon, fast: the polygon's edges sorted into horizontal bands of latitude.
//!
//! The test is the crossing-number rule (a point is inside when a ray towards the east crosses
//! the rings an odd number of times), and a ray at one latitude can only cross edges that
//! reach that latitude. So the polygon's latitude range is cut into equal bands, each listing
//! the edges that reach into it; a test computes its band with one multiplication and scans
//! only that list: a handful of edges instead of all 841 of Iraq. Edges are copied into each
//! band they touch, so a scan reads one contiguous run of memory.
//!
//! Containment is decided in the plane of longitude and latitude, with straight edges, which
//! is how GeoJSON (RFC 7946 §3.1.1) defines a polygon. Orientation is decided by
//! `robust::orient2d`, which is exact, so a point on an edge or a vertex is recognised as
//! such, and the answer never depends on rounding: the polygon is a closed set and its
//! boundary (exterior and holes alike) belongs to it.

use robust::{Coord, orient2d};

use super::Point;

/// One edge of a ring, from (x0, y0) to (x1, y1), in degrees (x = longitude, y = latitude).
#[derive(Debug, Clone, Copy)]
struct Edge {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Edge {
    /// `> 0` when `p` is left of the edge going forward, `< 0` right of it, `0` on its line.
    fn side(&self, x: f64, y: f64) -> f64 {
        orient2d(
            Coord {
                x: self.x0,
                y: self.y0,
            },
            Coord {
                x: self.x1,
                y: self.y1,
            },
            Coord { x, y },
        )
    }

    fn low(&self) -> f64 {
        self.y0.min(self.y1)
    }

    fn high(&self) -> f64 {
        self.y0.max(self.y1)
    }
}

/// One polygon (exterior and holes), indexed by bands of latitude.
#[derive(Debug, Clone)]
pub(super) struct Bands {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
    /// Bands per degree of latitude.
    scale: f64,
    /// Index of the last band.
    last: usize,
    /// Band `i`'s edges are `edges[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    edges: Vec<Edge>,
}

impl Bands {
    /// Indexes the rings of one polygon; each ring is closed and has at least 4 points.
    pub(super) fn new<'a>(rings: impl Iterator<Item = &'a [Point]> + Clone) -> Bands {
        let all: Vec<Edge> = rings
            .flat_map(|ring| ring.windows(2))
            .filter_map(|pair| match pair {
                [a, b] => Some(Edge {
                    x0: a.lon,
                    y0: a.lat,
                    x1: b.lon,
                    y1: b.lat,
                }),
                _ => None,
            })
            .collect();
        let (mut west, mut south, mut east, mut north) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for e in &all {
            west = west.min(e.x0.min(e.x1));
            east = east.max(e.x0.max(e.x1));
            south = south.min(e.low());
            north = north.max(e.high());
        }
        // One band per edge: Iraq gets 840 bands of 1.1 km holding 3.3 edges each on average;
        // four times as many bands measured no faster (more memory, fewer cache hits).
        // An edge is copied into every band it reaches, so a ring that zigzags across the
        // whole range would need edges × bands copies: halve the bands until the copies are
        // at most 16 per edge, trading speed on such a ring for bounded memory.
        let mut count = all.len().clamp(1, 1 << 16);
        let height = north - south;
        let mut bands = loop {
            let scale = if height > 0.0 {
                count as f64 / height
            } else {
                0.0
            };
            let shell = Bands {
                west,
                south,
                east,
                north,
                scale,
                last: count - 1,
                starts: Vec::new(),
                edges: Vec::new(),
            };
            let copies: usize = all
                .iter()
                .map(|e| shell.band(e.high()) - shell.band(e.low()) + 1)
                .sum();
            if copies <= 16 * all.len() || count == 1 {
                break shell;
            }
            count /= 2;
        };
        // An edge goes into every band from that of its low end to that of its high end.
        // `band` is monotonic in latitude, so a point whose latitude the edge reaches is in
        // one of those bands, whatever the rounding.
        let mut sizes = vec![0usize; count + 1];
        for e in &all {
            for i in bands.band(e.low())..=bands.band(e.high()) {
                if let Some(n) = sizes.get_mut(i + 1) {
                    *n += 1;
                }
            }
        }
        let mut total = 0;
        for n in &mut sizes {
            total += *n;
            *n = total;
        }
        let mut next = sizes.clone();
        let mut edges = vec![
            Edge {
                x0: 0.0,
                y0: 0.0,
                x1: 0.0,
                y1: 0.0
            };
            total
        ];
        for e in &all {
            for i in bands.band(e.low())..=bands.band(e.high()) {
                if let Some(at) = next.get_mut(i)
                    && let Some(slot) = edges.get_mut(*at)
                {
                    *slot = *e;
                    *at += 1;
                }
            }
        }
        bands.starts = sizes;
        bands.edges = edges;
        bands
    }

    /// The band of a latitude within the polygon's range.
    #[inline]
    fn band(&self, lat: f64) -> usize {
        // Truncation of a non-negative number; NaN and negatives become 0.
        (((lat - self.south) * self.scale) as usize).min(self.last)
    }

    /// Whether the polygon holds `p`, its boundary included.
    #[inline]
    pub(super) fn contains(&self, p: Point) -> bool {
        let (x, y) = (p.lon, p.lat);
        if !(x >= self.west && x <= self.east && y >= self.south && y <= self.north) {
            return false;
        }
        let band = self.band(y);
        let (Some(&from), Some(&to)) = (self.starts.get(band), self.starts.get(band + 1)) else {
            return false;
        };
        let Some(edges) = self.edges.get(from..to) else {
            return false;
        };
        let mut inside = false;
        for e in edges {
            if (e.y0 <= y) != (e.y1 <= y) {
                // The edge crosses the latitude of p (its lower end counted, its upper end
                // not, so a ray through a vertex counts it once). The crossing is east of p
                // when p is west of the whole edge, never when p is east of it, and otherwise
                // when p is left of an upward edge or right of a downward one.
                if x < e.x0.min(e.x1) {
                    inside = !inside;
                } else if x <= e.x0.max(e.x1) {
                    let side = e.side(x, y);
                    if side == 0.0 {
                        return true;
                    }
                    if (side > 0.0) == (e.y1 > e.y0) {
                        inside = !inside;
                    }
                }
            } else if (e.y0 == y || e.y1 == y)
                && x >= e.x0.min(e.x1)
                && x <= e.x0.max(e.x1)
                && e.side(x, y) == 0.0
            {
                // p at the upper end of an edge, or on a horizontal edge: on the boundary.
                return true;
            }
        }
        inside
    }

    /// Edges scanned at latitude `lat` (for tests of the index).
    #[cfg(test)]
    pub(super) fn band_size(&self, lat: f64) -> usize {
        let b = self.band(lat);
        self.starts[b + 1] - self.starts[b]
    }
}

#[cfg(test)]
/// The plain crossing-number test over every edge: the reference the bands must match.
pub(in crate::geo) fn brute(rings: &[Vec<Point>], p: Point) -> bool {
    let mut inside = false;
    for ring in rings {
        for w in ring.windows(2) {
            let e = Edge {
                x0: w[0].lon,
                y0: w[0].lat,
                x1: w[1].lon,
                y1: w[1].lat,
            };
            let side = e.side(p.lon, p.lat);
            let within_x = p.lon >= e.x0.min(e.x1) && p.lon <= e.x0.max(e.x1);
            let within_y = p.lat >= e.low() && p.lat <= e.high();
            if side == 0.0 && within_x && within_y {
                return true;
            }
            if (e.y0 <= p.lat) != (e.y1 <= p.lat) && (side > 0.0) == (e.y1 > e.y0) {
                inside = !inside;
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(coords: &[(f64, f64)]) -> Vec<Point> {
        coords
            .iter()
            .map(|&(lon, lat)| Point { lon, lat })
            .collect()
    }

    #[test]
    fn bands_agree_with_a_scan_of_every_edge() {
        // A comb: many edges at the same latitudes, vertices exactly on band borders.
        let mut coords = vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)];
        for i in (0..10).rev() {
            let x = i as f64;
            coords.push((x + 0.5, 2.0));
            coords.push((x, 10.0));
        }
        coords.push((0.0, 0.0));
        let rings = vec![
            ring(&coords),
            ring(&[(1.0, 0.5), (1.0, 1.5), (9.0, 1.5), (9.0, 0.5), (1.0, 0.5)]),
        ];
        let bands = Bands::new(rings.iter().map(|r| r.as_slice()));
        let mut state = 7u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..20_000 {
            // Half the points on a grid of quarter degrees, to land on vertices and edges.
            let (a, b) = (next() * 12.0 - 1.0, next() * 12.0 - 1.0);
            let p = if next() < 0.5 {
                Point {
                    lon: (a * 4.0).round() / 4.0,
                    lat: (b * 4.0).round() / 4.0,
                }
            } else {
                Point { lon: a, lat: b }
            };
            assert_eq!(bands.contains(p), brute(&rings, p), "{p:?}");
        }
        assert!(bands.band_size(5.0) < 30);
    }

    #[test]
    fn a_zigzag_ring_keeps_its_copies_bounded() {
        // 2,000 teeth, each edge spanning the whole latitude range.
        let mut coords: Vec<(f64, f64)> = (0..2000)
            .flat_map(|i| {
                let x = i as f64 / 100.0;
                [(x, 0.0), (x + 0.005, 10.0)]
            })
            .collect();
        coords.extend([(20.0, 0.0), (20.0, -1.0), (0.0, -1.0), (0.0, 0.0)]);
        let rings = vec![ring(&coords)];
        let bands = Bands::new(rings.iter().map(|r| r.as_slice()));
        assert!(
            bands.edges.len() <= 16 * coords.len(),
            "{}",
            bands.edges.len()
        );
        let mut state = 11u64;
        for _ in 0..2_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let p = Point {
                lon: (state % 21_000) as f64 / 1000.0,
                lat: (state % 11_003) as f64 / 1000.0 - 1.0,
            };
            assert_eq!(bands.contains(p), brute(&rings, p), "{p:?}");
        }
    }
}
