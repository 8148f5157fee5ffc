//! Label placement for the HTML map: where a name can go without covering another.
//!
//! One job: given, for each label in turn, a few candidate positions in order of preference,
//! take the first that is on the map and clear of every label and mark already placed — and
//! among those, the one that hides the fewest violation dots. Greedy and in a fixed order, so
//! that the same report places the same labels at the same pixels; no search, because a map
//! of a few hundred names must render in an instant and stay the same byte for byte.
//!
//! Nothing here measures text: a browser is not at hand when the report is written. A
//! label's width is estimated from its characters ([`text_width`]), on the generous side, so
//! that labels estimated apart are apart when drawn (the headless-browser test measures
//! them). The board is a grid of cells, each listing the boxes that reach into it, so that a
//! check looks at a label's neighbours only, however many names the map has.

/// The labels' font size, px (the map's stylesheet sets it, so that the estimate holds).
pub(super) const FONT: f64 = 10.0;

/// Room kept around a label's glyphs: the white halo that keeps it legible over lines.
const PAD: f64 = 1.5;

/// A box on the map, in px: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Rect {
    /// The box of `w` × `h` px whose top left corner is at (`x`, `y`).
    pub fn sized(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect {
            left: x,
            top: y,
            right: x + w,
            bottom: y + h,
        }
    }

    /// Whether the two share any area (touching edges do not).
    fn overlaps(&self, other: &Rect) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }
}

/// How a text stands on its `x`: SVG's `text-anchor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    pub fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A label's position: its baseline's anchor point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Spot {
    pub x: f64,
    pub y: f64,
    pub anchor: Anchor,
}

/// The estimated width of `text` at [`FONT`], px: per character, in ems, 0.45 for the narrow
/// ones (`i`, `l`, `r`, punctuation, space), 1.0 for `m`, `w`, `M`, `W` and for characters of
/// scripts set wide (CJK, Hangul, emoji), 0.8 for other capitals, 0.65 for digits and 0.64
/// for the rest. Over DejaVu Sans (Chromium's `system-ui` on Debian) it errs on the wide side:
/// "Sulaymaniyah" is 71 px there and estimated at 77.
pub(super) fn text_width(text: &str) -> f64 {
    text.chars().map(char_width).sum::<f64>() * FONT
}

fn char_width(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | 'f' | 't' | 'r' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!'
        | ' ' | '(' | ')' | '-' => 0.45,
        'm' | 'w' | 'M' | 'W' => 1.0,
        c if c.is_ascii_uppercase() => 0.8,
        c if c.is_ascii_digit() => 0.65,
        c if u32::from(c) >= 0x1100 => 1.0,
        _ => 0.64,
    }
}

/// The box a text of estimated width `width` takes at `spot`, with its halo: from 0.9 em
/// above the baseline to 0.25 em below.
pub(super) fn text_box(spot: Spot, width: f64) -> Rect {
    let left = match spot.anchor {
        Anchor::Start => spot.x,
        Anchor::Middle => spot.x - width / 2.0,
        Anchor::End => spot.x - width,
    };
    Rect {
        left: left - PAD,
        top: spot.y - 0.9 * FONT - PAD,
        right: left + width + PAD,
        bottom: spot.y + 0.25 * FONT + PAD,
    }
}

/// The baseline that centres a line of text on `y`.
pub(super) fn centred_baseline(y: f64) -> f64 {
    y + 0.325 * FONT
}

/// Cell size of the board's grid, px: about a short label's width.
const CELL: f64 = 24.0;

/// The map as labels see it: what is taken (labels, marks, legend), and where the violation
/// dots are, which a label covers only when it cannot help it.
pub(super) struct Board {
    width: f64,
    height: f64,
    columns: usize,
    rows: usize,
    /// Per cell, the indices in `taken` of the boxes that reach into it.
    cells: Vec<Vec<usize>>,
    taken: Vec<Rect>,
    /// Per cell, how many dots reach into it.
    dots: Vec<u32>,
}

impl Board {
    pub fn new(width: f64, height: f64) -> Board {
        let columns = (width / CELL).ceil().max(1.0) as usize;
        let rows = (height / CELL).ceil().max(1.0) as usize;
        Board {
            width,
            height,
            columns,
            rows,
            cells: vec![Vec::new(); columns * rows],
            taken: Vec::new(),
            dots: vec![0; columns * rows],
        }
    }

    /// The cells a box reaches into, clamped to the board.
    fn cells_of(&self, r: &Rect) -> impl Iterator<Item = usize> + use<> {
        let column = |x: f64| ((x / CELL).floor().max(0.0) as usize).min(self.columns - 1);
        let row = |y: f64| ((y / CELL).floor().max(0.0) as usize).min(self.rows - 1);
        let (c0, c1) = (column(r.left), column(r.right));
        let (r0, r1) = (row(r.top), row(r.bottom));
        let columns = self.columns;
        (r0..=r1).flat_map(move |row| (c0..=c1).map(move |column| row * columns + column))
    }

    /// Marks a box as taken: a placed label, a place's mark, the legend.
    pub fn take(&mut self, r: Rect) {
        let index = self.taken.len();
        self.taken.push(r);
        for cell in self.cells_of(&r) {
            if let Some(list) = self.cells.get_mut(cell) {
                list.push(index);
            }
        }
    }

    /// Notes a violation dot of radius `radius` at (`x`, `y`).
    pub fn dot(&mut self, x: f64, y: f64, radius: f64) {
        let r = Rect {
            left: x - radius,
            top: y - radius,
            right: x + radius,
            bottom: y + radius,
        };
        for cell in self.cells_of(&r) {
            if let Some(n) = self.dots.get_mut(cell) {
                *n = n.saturating_add(1);
            }
        }
    }

    /// Whether a box lies on the map and clear of everything taken.
    fn free(&self, r: &Rect) -> bool {
        let on_map =
            r.left >= 0.0 && r.top >= 0.0 && r.right <= self.width && r.bottom <= self.height;
        on_map
            && self.cells_of(r).all(|cell| {
                self.cells.get(cell).is_none_or(|list| {
                    list.iter()
                        .all(|&i| self.taken.get(i).is_none_or(|t| !t.overlaps(r)))
                })
            })
    }

    /// How many dots a box may hide (counted by cell: an estimate, used only to choose).
    fn dots_under(&self, r: &Rect) -> u64 {
        self.cells_of(r)
            .map(|cell| u64::from(self.dots.get(cell).copied().unwrap_or(0)))
            .sum()
    }

    /// Places a label of estimated width `width` at the best of `spots`: the first free one
    /// that hides the fewest dots. Takes its box and gives the spot; `None` when none is free.
    pub fn place(&mut self, spots: &[Spot], width: f64) -> Option<Spot> {
        let mut best: Option<(Spot, u64)> = None;
        for spot in spots {
            let r = text_box(*spot, width);
            if !self.free(&r) {
                continue;
            }
            let hidden = self.dots_under(&r);
            if best.is_none_or(|(_, fewest)| hidden < fewest) {
                best = Some((*spot, hidden));
            }
            if hidden == 0 {
                break;
            }
        }
        let (spot, _) = best?;
        self.take(text_box(spot, width));
        Some(spot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64) -> Spot {
        Spot {
            x,
            y,
            anchor: Anchor::Start,
        }
    }

    #[test]
    fn a_label_takes_the_first_free_spot_and_the_next_avoids_it() {
        let mut board = Board::new(200.0, 100.0);
        let spots = [at(10.0, 20.0), at(10.0, 50.0), at(10.0, 80.0)];
        assert_eq!(board.place(&spots, 50.0), Some(at(10.0, 20.0)));
        assert_eq!(board.place(&spots, 50.0), Some(at(10.0, 50.0)));
        assert_eq!(board.place(&spots, 50.0), Some(at(10.0, 80.0)));
        assert_eq!(board.place(&spots, 50.0), None);
    }

    #[test]
    fn a_label_off_the_map_or_on_the_legend_is_not_placed() {
        let mut board = Board::new(200.0, 100.0);
        board.take(Rect::sized(0.0, 0.0, 100.0, 100.0));
        assert_eq!(board.place(&[at(20.0, 50.0), at(190.0, 50.0)], 30.0), None);
        assert_eq!(board.place(&[at(120.0, 50.0)], 30.0), Some(at(120.0, 50.0)));
    }

    #[test]
    fn a_label_avoids_dots_when_it_can() {
        let mut board = Board::new(200.0, 100.0);
        board.dot(30.0, 17.0, 5.0);
        assert_eq!(
            board.place(&[at(10.0, 20.0), at(10.0, 70.0)], 40.0),
            Some(at(10.0, 70.0))
        );
        // Covering a dot is better than no label.
        board.dot(150.0, 17.0, 5.0);
        assert_eq!(board.place(&[at(130.0, 20.0)], 40.0), Some(at(130.0, 20.0)));
    }

    #[test]
    fn the_estimate_is_wider_than_dejavu_sans() {
        // Widths measured in Chromium with DejaVu Sans at 10 px.
        for (text, measured) in [
            ("Sulaymaniyah", 70.9),
            ("Haftanin", 42.5),
            ("iq-tr-border", 57.6),
            ("WWWWWWWWWW", 99.0),
            ("mmmmmmmmmm", 97.4),
            ("0123456789", 63.6),
            ("Kani Masi", 47.6),
            ("Duhok", 32.5),
        ] {
            let estimate = text_width(text);
            assert!(estimate >= measured, "{text}: {estimate} < {measured}");
            assert!(
                estimate <= measured * 1.35,
                "{text}: {estimate} ≫ {measured}"
            );
        }
    }
}
