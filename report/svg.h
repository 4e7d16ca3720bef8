// Inline SVG charts for the reports: bars, histograms, scatter and line plots, heat maps.
// Each chart is one <svg class="chart" data-chart="..."> with a title, labelled axes and,
// where there are several series, a legend. Text from data is escaped.
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace tabpilot::svg {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string color;   // empty: from the palette
  bool line = true;    // false: points only
  bool step = false;   // step plot (best-so-far curves)
};

struct Axes {
  std::string title, x_label, y_label;
  int width = 520, height = 340;
  std::string legend = "tl";  // legend corner inside the plot: tl, tr, bl, br
  // Fixed ranges (NaN: from the data).
  double x_min = kAuto, x_max = kAuto, y_min = kAuto, y_max = kAuto;
  static constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();
};

const std::string& palette(size_t i);

// Horizontal bars, one per label (e.g. importance, prediction power, class counts).
std::string hbar_chart(const Axes& a, const std::vector<std::string>& labels,
                       const std::vector<double>& values);
// Vertical bars over consecutive bins [edges[i], edges[i+1]) with counts.
std::string histogram(const Axes& a, const std::vector<double>& edges,
                      const std::vector<double>& counts);
// Vertical bars over named categories.
std::string column_chart(const Axes& a, const std::vector<std::string>& labels,
                         const std::vector<double>& values);
// Lines and/or points; `diagonal` draws y = x (predicted vs actual, ROC chance line).
std::string plot(const Axes& a, const std::vector<Series>& series, bool diagonal = false);
// A matrix as coloured cells with values written in them (correlations, confusion matrix).
// Colours: diverging blue-white-red over [lo, hi] when lo < 0, else white-to-blue.
std::string heatmap(const Axes& a, const std::vector<std::string>& row_labels,
                    const std::vector<std::string>& col_labels,
                    const std::vector<std::vector<double>>& values, double lo, double hi);
// A tiny histogram without axes, for per-column tables.
std::string sparkline_bars(const std::vector<double>& values, int width = 120, int height = 28);

// Equal-width bins over the finite values (at most `bins`): edges and counts.
void bin_values(const std::vector<double>& values, int bins, std::vector<double>& edges,
                std::vector<double>& counts);

}  // namespace tabpilot::svg
