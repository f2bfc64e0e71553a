/* SPDX-License-Identifier: MIT */
/* render_flame.c — see render_flame.h. The layout follows FlameGraph: x by cumulative
 * samples of earlier siblings (children in name order), one row per depth; the embedded
 * script re-lays frames out on zoom and re-truncates their names. */
#include "analysis/render/render_flame.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hashmap.h"
#include "core/utf8.h"
#include "analysis/render/xml.h"

#define FRAME_H   16
#define FONT_SIZE 12
#define FONT_W    0.59 /* average character width, in font sizes (Verdana) */
#define XPAD      10
#define TOP_PAD   (FONT_SIZE * 3 + (FONT_SIZE + 4))
#define BOTTOM    (FONT_SIZE * 2 + 10)

/* The "hot" palette of FlameGraph, picked by a hash of the name: the same function has the
 * same colour in every graph. */
static void hot_colour(const char *name, char *buf, size_t len)
{
    uint64_t h = hash_bytes(name, strlen(name));
    double v1 = (double)(h & 0xffff) / 65535.0, v2 = (double)((h >> 16) & 0xffff) / 65535.0,
           v3 = (double)((h >> 32) & 0xffff) / 65535.0;
    snprintf(buf, len, "rgb(%d,%d,%d)", 205 + (int)(50 * v3), (int)(230 * v1), (int)(55 * v2));
}

void flame_diff_colour(double now, double before, double max_change, char *buf, size_t len)
{
    double d = now - before;
    /* full colour at the largest change, but never for less than FLAME_DIFF_FULL: a graph of
     * tiny (noise-sized) changes stays pale */
    if (max_change < FLAME_DIFF_FULL)
        max_change = FLAME_DIFF_FULL;
    if (fabs(d) < 1e-12) {
        snprintf(buf, len, "rgb(224,224,224)");
        return;
    }
    double s = fabs(d) / max_change;
    if (s > 1)
        s = 1;
    int v = (int)lround(210 * (1 - s));
    if (d > 0)
        snprintf(buf, len, "rgb(255,%d,%d)", v, v);
    else
        snprintf(buf, len, "rgb(%d,%d,255)", v, v);
}

/* The text drawn in a frame of w pixels: the name, or its start and "..", or nothing; cut
 * between characters (xml_text counts characters), as the script's update_text does. */
static void frame_label(FILE *out, const char *name, double w)
{
    long chars = (long)((w - 6) / (FONT_SIZE * FONT_W));
    size_t n = utf8_chars(name);
    if (chars < 3)
        return;
    if ((long)n <= chars) {
        xml_text(out, name, n, false);
        return;
    }
    xml_text(out, name, (size_t)chars - 2, false);
    fputs("..", out);
}

static const char *script =
    "var svg, frames, details, searchbtn, matchedtxt, unzoombtn, width, icicle;\n"
    "var fontsize = " "12" ", fontwidth = 0.59, xpad = 10, currentSearch = null;\n"
    "function init(evt) {\n"
    "  svg = document.getElementsByTagName('svg')[0];\n"
    "  frames = document.getElementById('frames');\n"
    "  details = document.getElementById('details').firstChild;\n"
    "  searchbtn = document.getElementById('search');\n"
    "  matchedtxt = document.getElementById('matched');\n"
    "  unzoombtn = document.getElementById('unzoom');\n"
    "  width = parseFloat(svg.getAttribute('width'));\n"
    "  icicle = svg.getAttribute('data-icicle') == '1';\n"
    "  var gs = groups();\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var r = rect(gs[i]);\n"
    "    gs[i].setAttribute('data-ox', r.getAttribute('x'));\n"
    "    gs[i].setAttribute('data-ow', r.getAttribute('width'));\n"
    "  }\n"
    "  var m = /[?&]s=([^&]*)/.exec(window.location.search);\n"
    "  if (m) search(decodeURIComponent(m[1]));\n"
    "}\n"
    "function groups() { return frames.getElementsByTagName('g'); }\n"
    "function rect(g) { return g.getElementsByTagName('rect')[0]; }\n"
    "function label(g) { return g.getElementsByTagName('title')[0].firstChild.nodeValue; }\n"
    "function fname(g) { return label(g).split('\\n')[0]; }\n"
    "function find_group(node) {\n"
    "  while (node && node.parentNode) {\n"
    "    if (node.nodeName == 'g' && node.parentNode.id == 'frames') return node;\n"
    "    node = node.parentNode;\n"
    "  }\n"
    "  return null;\n"
    "}\n"
    "function update_text(g) {\n"
    "  var r = rect(g), t = g.getElementsByTagName('text')[0];\n"
    "  var w = parseFloat(r.getAttribute('width')) - 6;\n"
    "  t.setAttribute('x', parseFloat(r.getAttribute('x')) + 3);\n"
    "  var n = Array.from(fname(g)), chars = Math.floor(w / (fontsize * fontwidth));\n"
    "  if (chars < 3) t.textContent = '';\n"
    "  else if (n.length > chars) t.textContent = n.slice(0, chars - 2).join('') + '..';\n"
    "  else t.textContent = n.join('');\n"
    "}\n"
    "function zoom(g) {\n"
    "  var ox = parseFloat(g.getAttribute('data-ox')), ow = parseFloat(g.getAttribute('data-ow'));\n"
    "  var gy = parseFloat(rect(g).getAttribute('y')), ratio = (width - 2 * xpad) / ow;\n"
    "  unzoombtn.classList.remove('hide');\n"
    "  var gs = groups();\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var e = gs[i], r = rect(e);\n"
    "    var ex = parseFloat(e.getAttribute('data-ox')), ew = parseFloat(e.getAttribute('data-ow'));\n"
    "    var ey = parseFloat(r.getAttribute('y'));\n"
    "    var outer = icicle ? ey <= gy : ey >= gy;\n"
    "    e.classList.remove('hide');\n"
    "    e.classList.remove('parent');\n"
    "    if (outer && ex <= ox + 1e-6 && ex + ew >= ox + ow - 1e-6) {\n"
    "      r.setAttribute('x', xpad);\n"
    "      r.setAttribute('width', width - 2 * xpad);\n"
    "      if (e !== g) e.classList.add('parent');\n"
    "    } else if (!outer && ex >= ox - 1e-6 && ex + ew <= ox + ow + 1e-6) {\n"
    "      r.setAttribute('x', xpad + (ex - ox) * ratio);\n"
    "      r.setAttribute('width', ew * ratio);\n"
    "    } else {\n"
    "      e.classList.add('hide');\n"
    "    }\n"
    "    update_text(e);\n"
    "  }\n"
    "}\n"
    "function unzoom() {\n"
    "  unzoombtn.classList.add('hide');\n"
    "  var gs = groups();\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var e = gs[i], r = rect(e);\n"
    "    e.classList.remove('hide');\n"
    "    e.classList.remove('parent');\n"
    "    r.setAttribute('x', e.getAttribute('data-ox'));\n"
    "    r.setAttribute('width', e.getAttribute('data-ow'));\n"
    "    update_text(e);\n"
    "  }\n"
    "}\n"
    "function search(term) {\n"
    "  var re = new RegExp(term), spans = [], gs = groups();\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var e = gs[i], r = rect(e);\n"
    "    if (!r.hasAttribute('data-fill')) r.setAttribute('data-fill', r.getAttribute('fill'));\n"
    "    if (re.test(fname(e))) {\n"
    "      r.setAttribute('fill', 'rgb(230,0,230)');\n"
    "      spans.push([parseFloat(e.getAttribute('data-ox')), parseFloat(e.getAttribute('data-ow'))]);\n"
    "    } else {\n"
    "      r.setAttribute('fill', r.getAttribute('data-fill'));\n"
    "    }\n"
    "  }\n"
    "  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
    "  var covered = 0, end = -1;\n"
    "  for (var k = 0; k < spans.length; k++) {\n"
    "    var s = spans[k][0], t = s + spans[k][1];\n"
    "    if (s >= end) { covered += t - s; end = t; }\n"
    "    else if (t > end) { covered += t - end; end = t; }\n"
    "  }\n"
    "  var pct = 100 * covered / (width - 2 * xpad);\n"
    "  matchedtxt.textContent = 'Matched: ' + pct.toFixed(1) + '%';\n"
    "  searchbtn.textContent = 'Reset Search';\n"
    "  currentSearch = term;\n"
    "}\n"
    "function reset_search() {\n"
    "  var gs = groups();\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var r = rect(gs[i]);\n"
    "    if (r.hasAttribute('data-fill')) r.setAttribute('fill', r.getAttribute('data-fill'));\n"
    "  }\n"
    "  matchedtxt.textContent = ' ';\n"
    "  searchbtn.textContent = 'Search';\n"
    "  currentSearch = null;\n"
    "}\n"
    "function search_prompt() {\n"
    "  if (currentSearch !== null) { reset_search(); return; }\n"
    "  var term = prompt('Search for a function (regular expression):', '');\n"
    "  if (!term) return;\n"
    "  try { search(term); } catch (err) { alert('Not a regular expression: ' + err.message); }\n"
    "}\n"
    "window.addEventListener('click', function (e) {\n"
    "  var g = find_group(e.target);\n"
    "  if (g) { zoom(g); return; }\n"
    "  if (e.target.id == 'unzoom') unzoom();\n"
    "  else if (e.target.id == 'search') search_prompt();\n"
    "}, false);\n"
    "window.addEventListener('mouseover', function (e) {\n"
    "  var g = find_group(e.target);\n"
    "  if (g) details.nodeValue = label(g).replace(/\\n/g, ': ');\n"
    "}, false);\n"
    "window.addEventListener('mouseout', function (e) {\n"
    "  if (find_group(e.target)) details.nodeValue = ' ';\n"
    "}, false);\n"
    "window.addEventListener('keydown', function (e) {\n"
    "  if ((e.ctrlKey && e.keyCode === 70) || e.key === '/') { e.preventDefault(); search_prompt(); }\n"
    "}, false);\n";

/* Samples as an integer with thousands separators when whole, else with one decimal. */
static void format_samples(double v, char *buf, size_t len)
{
    if (fabs(v - round(v)) > 1e-6) {
        snprintf(buf, len, "%.1f", v);
        return;
    }
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

int render_flame_svg(FILE *out, const struct flame_tree *t, const struct flame_options *o)
{
    int width = o->width > 0 ? o->width : 1200;
    const char *title = o->title ? o->title : "Flame Graph";
    int height = (int)(t->max_depth + 1) * FRAME_H + TOP_PAD + BOTTOM;
    double total = t->n ? t->nodes[0].total : 0;
    double scale = total > 0 ? (width - 2.0 * XPAD) / total : 0;
    double base_total = o->base && o->base->n ? o->base->nodes[0].total : 0;

    fprintf(out,
            "<?xml version=\"1.0\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" width=\"%d\" height=\"%d\" onload=\"init(evt)\" "
            "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
            "xmlns:xlink=\"http://www.w3.org/1999/xlink\" data-icicle=\"%d\">\n",
            width, height, width, height, o->icicle ? 1 : 0);
    fprintf(out, "<!-- written by profreg flamegraph; self-contained: no network, no files -->\n");
    fprintf(out, "<style type=\"text/css\">\n"
                 "  text { font-family: Verdana, sans-serif; font-size: %dpx; fill: rgb(0,0,0); }\n"
                 "  #title { text-anchor: middle; font-size: %dpx; }\n"
                 "  #subtitle { text-anchor: middle; fill: rgb(96,96,96); }\n"
                 "  #search, #unzoom { cursor: pointer; opacity: 0.6; }\n"
                 "  #search:hover, #unzoom:hover { opacity: 1; }\n"
                 "  #frames > g { cursor: pointer; }\n"
                 "  #frames > g:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
                 "  .hide { display: none; }\n"
                 "  .parent { opacity: 0.5; }\n"
                 "</style>\n",
            FONT_SIZE, FONT_SIZE + 5);
    fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", script);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"rgb(248,248,248)\"/>\n",
            width, height);
    fprintf(out, "<text id=\"title\" x=\"%d\" y=\"%d\">", width / 2, FONT_SIZE * 2);
    xml_text(out, title, SIZE_MAX, false);
    fprintf(out, "</text>\n<text id=\"subtitle\" x=\"%d\" y=\"%d\">", width / 2,
            FONT_SIZE * 2 + FONT_SIZE + 6);
    xml_text(out, o->subtitle ? o->subtitle : " ", SIZE_MAX, false);
    fprintf(out, "</text>\n");
    fprintf(out, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"%d\">Reset Zoom</text>\n", XPAD,
            FONT_SIZE * 2);
    fprintf(out, "<text id=\"search\" x=\"%d\" y=\"%d\" text-anchor=\"end\">Search</text>\n",
            width - XPAD, FONT_SIZE * 2);
    fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", XPAD, height - FONT_SIZE);
    fprintf(out, "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n",
            width - XPAD, height - FONT_SIZE);

    /* x of every node, in samples: its parent's x plus the totals of earlier siblings */
    double *x = calloc(t->n ? t->n : 1, sizeof *x);
    double max_change = 0;
    double *before = o->base ? calloc(t->n ? t->n : 1, sizeof *before) : NULL;
    if (!x || (o->base && !before)) {
        free(x);
        free(before);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        double cx = x[i];
        for (uint32_t c = t->nodes[i].first_child; c != FLAME_NONE; c = t->nodes[c].next_sibling) {
            x[c] = cx; /* children are created after their parent: indices grow */
            cx += t->nodes[c].total;
        }
        if (before) {
            uint32_t b = flame_same_path(o->base, t, (uint32_t)i);
            before[i] = b != FLAME_NONE && base_total > 0 ? o->base->nodes[b].total / base_total : 0;
            double now = total > 0 ? t->nodes[i].total / total : 0;
            if (fabs(now - before[i]) > max_change)
                max_change = fabs(now - before[i]);
        }
    }

    fprintf(out, "<g id=\"frames\">\n");
    for (size_t i = 0; i < t->n; i++) {
        const struct flame_node *nd = &t->nodes[i];
        double w = nd->total * scale;
        if (w < FLAME_MIN_WIDTH_PX)
            continue;
        double px = XPAD + x[i] * scale;
        int y = o->icicle ? TOP_PAD + (int)nd->depth * FRAME_H
                          : height - BOTTOM - ((int)nd->depth + 1) * FRAME_H;
        double share = total > 0 ? nd->total / total : 0;
        char samples[48], colour[32];
        format_samples(nd->total, samples, sizeof samples);
        fprintf(out, "<g><title>");
        xml_text(out, nd->name, SIZE_MAX, false);
        if (before) {
            fprintf(out, "\n%.2f%% now (%s %s), %.2f%% before: %+.2f points</title>",
                    share * 100, samples, o->unit ? o->unit : "samples", before[i] * 100,
                    (share - before[i]) * 100);
            flame_diff_colour(share, before[i], max_change, colour, sizeof colour);
        } else {
            fprintf(out, "\n%s %s, %.2f%%</title>", samples, o->unit ? o->unit : "samples",
                    share * 100);
            hot_colour(nd->name, colour, sizeof colour);
        }
        fprintf(out,
                "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\" "
                "ry=\"2\"/><text x=\"%.2f\" y=\"%d\">",
                px, y, w, FRAME_H - 1, colour, px + 3, y + FRAME_H - 5);
        frame_label(out, nd->name, w);
        fprintf(out, "</text></g>\n");
    }
    fprintf(out, "</g>\n</svg>\n");
    free(x);
    free(before);
    return ferror(out) ? -1 : 0;
}
