/* SPDX-License-Identifier: MIT */
/* render_flame.h — flame graphs as one self-contained SVG: no network, no external files.
 * Behaves like Brendan Gregg's FlameGraph: frames sized by samples, hover for name, samples
 * and share, click to zoom (Reset Zoom to undo), search by regular expression (the Search
 * button, Ctrl-F or "/", or ?s=REGEX in the URL) highlighting matches and showing the matched
 * share, names truncated to fit. Output only. */
#ifndef PROFREG_RENDER_FLAME_H
#define PROFREG_RENDER_FLAME_H

#include "analysis/render/flame.h"

#include <stdbool.h>
#include <stdio.h>

struct flame_options {
    const char *title;    /* default "Flame Graph" */
    const char *subtitle; /* a second line (what was merged, samples), or NULL */
    int width;            /* pixels (default 1200) */
    bool icicle;          /* root at the top, growing down */
    /* Differential: colour each frame by the change of its share against `base` (same path
     * of names): red grew, blue shrank, saturation by the size of the change. NULL: plain. */
    const struct flame_tree *base;
    const char *unit; /* what a frame's width counts, in its hover text ("bytes"); NULL: samples */
};

/* Frames narrower than this many pixels are left out (as FlameGraph's --minwidth). */
#define FLAME_MIN_WIDTH_PX 0.1

/* Writes t as SVG. 0, or -1 on a write error. */
int render_flame_svg(FILE *out, const struct flame_tree *t, const struct flame_options *o);

/* A change of share (fraction of all samples) that a differential graph shows in full
 * colour at the least: 2 points. */
#define FLAME_DIFF_FULL 0.02

/* The colour of a frame of a differential graph: share now and before (fractions 0..1),
 * and the largest |change| over the graph. Writes "rgb(r,g,b)": grey when unchanged, red
 * when it grew, blue when it shrank, deeper for larger changes. */
void flame_diff_colour(double now, double before, double max_change, char *buf, size_t len);

#endif
