// SPDX-License-Identifier: MIT
/*
 * svgplot.c - line plots as SVG, for people to read.
 *
 * What it owns: the layout of a plot of a few series against a power-of-
 * two x axis, in one or more panels stacked over the same x axis. Each
 * panel has its own y axis starting at 0 and ending at a round number just
 * above the largest value, with 1-2-5 tick steps, horizontal grid lines,
 * and its legend to the right of it (so it never covers a line). The x
 * axis is log2: equal steps for each doubling, one tick and one label
 * ("16", "1K", "64K") per point, a grid line at each.
 *
 * Output: an SVG 1.1 document with a white background, text in a font
 * every renderer has (DejaVu Sans, else the generic sans-serif), every
 * string XML-escaped. Each data point is a <circle class="point"> with a
 * <title> giving its coordinates (a tooltip in a browser), grouped per
 * series in <g class="series" data-label="...">, so that tests and scripts
 * can read the plot back with an XML parser. Reference lines (dashed) have
 * no points and do not stretch the y axis: one that lies above it is left
 * out of the panel and its legend entry says so, so that a far-off
 * reference (24 reads with no caches) does not flatten the curve that was
 * measured (a fraction of one read with them).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "svgplot.h"

#define W	  960
#define LEFT	  90  /* y tick labels and the y-axis label */
#define RIGHT	  230 /* legend */
#define TOP	  84  /* title and subtitle */
#define PANEL_H	  230
#define PANEL_GAP 56
#define BOTTOM	  70 /* x tick labels and the x-axis label */
#define PLOT_W	  (W - LEFT - RIGHT)
#define FONT	  "DejaVu Sans, Arial, Helvetica, sans-serif"

/* Write @s with XML's five special characters escaped, and control bytes dropped. */
static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
			break;
		}
	}
}

const char *plot_pow2_label(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while (v >= 1024 && !(v & 1023) && u < 5) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
	return buf;
}

/* A round axis end and tick step for data up to @max (>= 0). */
static void nice_axis(double max, double *top, double *step, int *decimals)
{
	double raw, mag, norm;

	if (!(max > 0))
		max = 1;
	raw = max / 5;
	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	*step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
	*top = ceil(max / *step - 1e-9) * *step;
	if (*top < max)
		*top += *step;
	*decimals = *step >= 1 ? 0 : (int)ceil(-log10(*step) - 1e-9);
}

static double x_pos(const struct plot *p, unsigned int i)
{
	double lo = log2((double)p->x[0]), hi = log2((double)p->x[p->npoints - 1]);

	if (p->npoints < 2 || hi <= lo)
		return LEFT + PLOT_W / 2.0;
	return LEFT + (log2((double)p->x[i]) - lo) / (hi - lo) * PLOT_W;
}

static void panel(FILE *f, const struct plot *p, const struct plot_panel *pn, int y0, bool last)
{
	double max = 0, top, step;
	int decimals, y1 = y0 + PANEL_H;
	char lab[32];

	/* The measured series set the axis; a reference line only when there is nothing else. */
	for (int pass = 0; pass < 2 && !(max > 0); pass++)
		for (unsigned int s = 0; s < pn->nseries; s++)
			for (unsigned int i = 0; i < p->npoints; i++)
				if ((pass || !pn->series[s].dashed) &&
				    isfinite(pn->series[s].y[i]) && pn->series[s].y[i] > max)
					max = pn->series[s].y[i];
	nice_axis(max, &top, &step, &decimals);

	fprintf(f, "<g class=\"panel\">\n");
	/* Grid and y ticks. */
	for (int k = 0;; k++) {
		double v = k * step;
		double y = y1 - v / top * PANEL_H;

		if (v > top + step / 2)
			break;
		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
			"dominant-baseline=\"middle\">"
			"%.*f</text>\n",
			LEFT, y, LEFT + PLOT_W, y, LEFT - 8, y, decimals, v);
	}
	for (unsigned int i = 0; i < p->npoints; i++) {
		double x = x_pos(p, i);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eeeeee\"/>\n",
			x, y0, x, y1);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333333\"/>\n",
			x, y1, x, y1 + 5);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
			"class=\"xtick\">%s</text>\n",
			x, y1 + 20, plot_pow2_label(p->x[i], lab, sizeof(lab)));
	}
	/* Frame and axis labels. */
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#333333\"/>\n",
		LEFT, y0, PLOT_W, PANEL_H);
	fprintf(f,
		"<text transform=\"translate(%d,%d) rotate(-90)\" text-anchor=\"middle\" "
		"class=\"ylabel\">",
		LEFT - 58, y0 + PANEL_H / 2);
	xml_text(f, pn->ylabel);
	fprintf(f, "</text>\n");
	if (last) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"xlabel\">",
			LEFT + PLOT_W / 2, y1 + 44);
		xml_text(f, p->xlabel);
		fprintf(f, "</text>\n");
	}

	/* Series, then the legend beside the panel. */
	for (unsigned int s = 0; s < pn->nseries; s++) {
		const struct plot_series *se = &pn->series[s];
		bool pen = false, above = false;

		for (unsigned int i = 0; i < p->npoints; i++)
			above |= isfinite(se->y[i]) && se->y[i] > top;

		fprintf(f, "<g class=\"series\" data-label=\"");
		xml_text(f, se->label);
		fprintf(f, "\">\n<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"",
			se->color, se->dashed ? " stroke-dasharray=\"6,4\"" : "");
		for (unsigned int i = 0; i < p->npoints; i++) {
			if (!isfinite(se->y[i]) || se->y[i] > top) {
				pen = false;
				continue;
			}
			fprintf(f, "%s%.1f,%.1f ", pen ? "L" : "M", x_pos(p, i),
				y1 - se->y[i] / top * PANEL_H);
			pen = true;
		}
		fprintf(f, "\"/>\n");
		for (unsigned int i = 0; !se->dashed && i < p->npoints; i++) {
			if (!isfinite(se->y[i]))
				continue;
			fprintf(f,
				"<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
				"fill=\"%s\"><title>%s: %.4g</title></circle>\n",
				x_pos(p, i), y1 - se->y[i] / top * PANEL_H, se->color,
				plot_pow2_label(p->x[i], lab, sizeof(lab)), se->y[i]);
		}
		fprintf(f, "</g>\n");

		fprintf(f,
			"<g class=\"legend\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			"stroke=\"%s\" stroke-width=\"2\"%s/>",
			LEFT + PLOT_W + 16, y0 + 14 + 20 * (int)s, LEFT + PLOT_W + 44,
			y0 + 14 + 20 * (int)s, se->color,
			se->dashed ? " stroke-dasharray=\"6,4\"" : "");
		if (!se->dashed)
			fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"3.5\" fill=\"%s\"/>",
				LEFT + PLOT_W + 30, y0 + 14 + 20 * (int)s, se->color);
		fprintf(f, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"middle\">",
			LEFT + PLOT_W + 52, y0 + 14 + 20 * (int)s);
		xml_text(f, se->label);
		fprintf(f, "</text>");
		if (above) /* off the top of the axis: said in the legend instead */
			fprintf(f,
				"<text x=\"%d\" y=\"%d\" dominant-baseline=\"middle\" "
				"fill=\"#666666\" font-size=\"11\">(above the axis)</text>",
				LEFT + PLOT_W + 52, y0 + 14 + 20 * (int)s + 15);
		fprintf(f, "</g>\n");
	}
	fprintf(f, "</g>\n");
}

int svg_plot_write(FILE *f, const struct plot *p)
{
	int h = TOP + (int)p->npanels * PANEL_H + ((int)p->npanels - 1) * PANEL_GAP + BOTTOM;

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" font-size=\"13\">\n",
		W, h, W, h, FONT);
	fprintf(f, "<title>");
	xml_text(f, p->title);
	fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f,
		"<text x=\"%d\" y=\"30\" text-anchor=\"middle\" font-size=\"17\" "
		"font-weight=\"bold\" class=\"title\">",
		W / 2);
	xml_text(f, p->title);
	fprintf(f, "</text>\n");
	if (p->subtitle) {
		fprintf(f,
			"<text x=\"%d\" y=\"54\" text-anchor=\"middle\" fill=\"#444444\" "
			"class=\"subtitle\">",
			W / 2);
		xml_text(f, p->subtitle);
		fprintf(f, "</text>\n");
	}
	for (unsigned int i = 0; i < p->npanels; i++)
		panel(f, p, &p->panel[i], TOP + (int)i * (PANEL_H + PANEL_GAP),
		      i + 1 == p->npanels);
	fprintf(f, "</svg>\n");
	return ferror(f) ? -EIO : 0;
}
