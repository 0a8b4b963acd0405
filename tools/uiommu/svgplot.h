/* SPDX-License-Identifier: MIT */
/*
 * A small SVG line-plot writer for `uiommu trace --sweep`: panels stacked
 * on one shared x axis with a log2 scale, each with its own linear y axis,
 * tick labels, a legend and a title. Standalone SVG 1.1, no scripts, no
 * external fonts or styles, so any browser or rsvg-convert renders it.
 */
#ifndef UIOMMU_TOOLS_SVGPLOT_H
#define UIOMMU_TOOLS_SVGPLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PLOT_MAX_SERIES 4
#define PLOT_MAX_PANELS 3

struct plot_series {
	const char *label; /* in the legend */
	const char *color; /* SVG colour, e.g. "#1f77b4" */
	const double *y;   /* one value a point (NaN: no point there) */
	bool dashed;	   /* a reference line: dashed, no markers */
};

struct plot_panel {
	const char *ylabel; /* with its unit: "miss rate (%)" */
	unsigned int nseries;
	struct plot_series series[PLOT_MAX_SERIES];
};

struct plot {
	const char *title, *subtitle;
	const char *xlabel;
	unsigned int npoints;
	const uint64_t *x; /* powers of two, increasing */
	unsigned int npanels;
	struct plot_panel panel[PLOT_MAX_PANELS];
};

/* Write the plot; 0, or -EIO when the stream fails. */
int svg_plot_write(FILE *f, const struct plot *p);

/* "16", "1K", "64K", "1M": a power of two for an axis label. */
const char *plot_pow2_label(uint64_t v, char *buf, size_t len);

#endif
