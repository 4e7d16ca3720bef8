#include "tabpilot/report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tabpilot/report/html.h"

namespace tabpilot::svg {
namespace {

using html::escape;

constexpr int kLeft = 64, kRight = 16, kTop = 34, kBottom = 48;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

// "Nice" tick values covering [lo, hi] (1, 2, 5 x 10^k steps).
std::vector<double> ticks(double lo, double hi, int target = 6) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  // A range too narrow for doubles to step through (0.88 to 0.88 + 1e-17): t += step would
  // not move t, and the loop below would never end.
  if (hi - lo <= 1e-9 * std::max(std::fabs(lo), std::fabs(hi))) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  const double first = std::ceil(lo / step) * step;
  for (int i = 0; i <= 4 * target; ++i) {  // target + 1 ticks at most; the bound is a guard
    const double t = first + i * step;
    if (t > hi + step * 1e-9) break;
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

std::string open_svg(const Axes& a, const std::string& kind) {
  std::string s = "<svg class=\"chart\" data-chart=\"" + escape(kind) +
                  "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(a.width) +
                  "\" height=\"" + std::to_string(a.height) + "\" viewBox=\"0 0 " +
                  std::to_string(a.width) + " " + std::to_string(a.height) +
                  "\" role=\"img\" aria-label=\"" + escape(a.title) + "\">";
  s += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(a.width) + "\" height=\"" +
       std::to_string(a.height) + "\" fill=\"#fff\"/>";
  s += "<text x=\"" + std::to_string(a.width / 2) +
       "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\" fill=\"#102a43\">" +
       escape(a.title) + "</text>";
  return s;
}

std::string text(double x, double y, const std::string& t, const std::string& anchor,
                 int size = 11, const std::string& extra = "") {
  return "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" text-anchor=\"" + anchor +
         "\" font-size=\"" + std::to_string(size) + "\" fill=\"#334e68\"" + extra + ">" +
         escape(t) + "</text>";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& color,
                 const std::string& extra = "") {
  return "<line x1=\"" + fmt(x1) + "\" y1=\"" + fmt(y1) + "\" x2=\"" + fmt(x2) + "\" y2=\"" +
         fmt(y2) + "\" stroke=\"" + color + "\"" + extra + "/>";
}

std::string truncate(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "\xE2\x80\xA6";
}

struct Frame {
  double x0, x1, y0, y1;  // data ranges
  double px0, px1, py0, py1;  // pixel box (py0 bottom)
  double X(double v) const { return px0 + (v - x0) / (x1 - x0) * (px1 - px0); }
  double Y(double v) const { return py0 - (v - y0) / (y1 - y0) * (py0 - py1); }
};

void widen(double& lo, double& hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi <= lo) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
}

// Axes, grid lines, tick labels and axis titles.
std::string draw_axes(const Axes& a, const Frame& f, bool x_ticks = true) {
  std::string s;
  for (double t : ticks(f.y0, f.y1)) {
    s += line(f.px0, f.Y(t), f.px1, f.Y(t), "#e4e7eb");
    s += text(f.px0 - 6, f.Y(t) + 4, html::num(t, 3), "end");
  }
  if (x_ticks)
    for (double t : ticks(f.x0, f.x1)) {
      s += line(f.X(t), f.py0, f.X(t), f.py0 + 4, "#829ab1");
      s += text(f.X(t), f.py0 + 16, html::num(t, 3), "middle");
    }
  s += line(f.px0, f.py0, f.px1, f.py0, "#829ab1");
  s += line(f.px0, f.py0, f.px0, f.py1, "#829ab1");
  s += text((f.px0 + f.px1) / 2, a.height - 8, a.x_label, "middle", 12);
  s += "<text transform=\"translate(14," + fmt((f.py0 + f.py1) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#334e68\">" +
       escape(a.y_label) + "</text>";
  return s;
}

}  // namespace

const std::string& palette(size_t i) {
  static const std::vector<std::string> p = {"#2680c2", "#e8833a", "#3ebd93", "#d64545",
                                             "#8662c7", "#c99a2e", "#40c3f7", "#9e9e9e"};
  return p[i % p.size()];
}

void bin_values(const std::vector<double>& values, int bins, std::vector<double>& edges,
                std::vector<double>& counts) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  edges.clear();
  counts.clear();
  if (!std::isfinite(lo)) return;
  if (hi == lo) {
    edges = {lo - 0.5, lo + 0.5};
    counts = {0};
    for (double v : values) counts[0] += std::isfinite(v) ? 1 : 0;
    return;
  }
  bins = std::max(1, bins);
  const double w = (hi - lo) / bins;
  for (int i = 0; i <= bins; ++i) edges.push_back(lo + i * w);
  counts.assign(static_cast<size_t>(bins), 0.0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    int b = static_cast<int>((v - lo) / w);
    counts[static_cast<size_t>(std::clamp(b, 0, bins - 1))] += 1;
  }
}

std::string hbar_chart(const Axes& a_in, const std::vector<std::string>& labels,
                       const std::vector<double>& values) {
  Axes a = a_in;
  const int bar = 20, gap = 6, label_w = 150;
  a.height = kTop + kBottom + 6 + static_cast<int>(std::max<size_t>(labels.size(), 1)) * (bar + gap);
  std::string s = open_svg(a, "hbar");
  double hi = 0, lo = 0;
  for (double v : values)
    if (std::isfinite(v)) hi = std::max(hi, v), lo = std::min(lo, v);
  if (!std::isnan(a.x_max)) hi = a.x_max;
  widen(lo, hi);
  Frame f{lo, hi, 0, 1, double(label_w + 8), double(a.width - 60), double(a.height - kBottom),
          double(kTop)};
  for (double t : ticks(lo, hi, 5)) {
    s += line(f.X(t), kTop - 4, f.X(t), f.py0, "#e4e7eb");
    s += text(f.X(t), f.py0 + 16, html::num(t, 3), "middle");
  }
  s += text((f.px0 + f.px1) / 2, a.height - 8, a.x_label, "middle", 12);
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = kTop + static_cast<double>(i) * (bar + gap);
    const double v = std::isfinite(values[i]) ? values[i] : 0;
    const double x0 = f.X(std::min(0.0, v)), x1 = f.X(std::max(0.0, v));
    s += text(label_w, y + bar * 0.7, truncate(labels[i], 24), "end", 12);
    s += "<rect x=\"" + fmt(x0) + "\" y=\"" + fmt(y) + "\" width=\"" +
         fmt(std::max(1.0, x1 - x0)) + "\" height=\"" + std::to_string(bar) + "\" fill=\"" +
         palette(0) + "\"><title>" + escape(labels[i]) + ": " + html::num(values[i]) +
         "</title></rect>";
    s += text(x1 + 4, y + bar * 0.7, html::num(values[i], 3), "start", 11);
  }
  return s + "</svg>";
}

std::string column_chart(const Axes& a, const std::vector<std::string>& labels,
                         const std::vector<double>& values) {
  std::string s = open_svg(a, "columns");
  double hi = 0;
  for (double v : values)
    if (std::isfinite(v)) hi = std::max(hi, v);
  if (hi <= 0) hi = 1;
  Frame f{0, 1, 0, hi * 1.1, double(kLeft), double(a.width - kRight), double(a.height - kBottom - 14),
          double(kTop)};
  s += draw_axes(a, f, false);
  const double n = std::max<size_t>(labels.size(), 1);
  const double w = (f.px1 - f.px0) / n;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double x = f.px0 + i * w + w * 0.12, y = f.Y(values[i]);
    s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w * 0.76) +
         "\" height=\"" + fmt(std::max(0.0, f.py0 - y)) + "\" fill=\"" + palette(i) +
         "\"><title>" + escape(labels[i]) + ": " + html::num(values[i]) + "</title></rect>";
    s += text(x + w * 0.38, f.py0 + 14, truncate(labels[i], std::max<size_t>(4, size_t(w / 7))),
              "middle", 11);
    s += text(x + w * 0.38, y - 4, html::num(values[i], 4), "middle", 10);
  }
  return s + "</svg>";
}

std::string histogram(const Axes& a, const std::vector<double>& edges,
                      const std::vector<double>& counts) {
  std::string s = open_svg(a, "histogram");
  if (edges.size() < 2) return s + text(a.width / 2.0, a.height / 2.0, "no values", "middle") + "</svg>";
  double hi = *std::max_element(counts.begin(), counts.end());
  if (hi <= 0) hi = 1;
  Frame f{edges.front(), edges.back(), 0, hi * 1.08, double(kLeft), double(a.width - kRight),
          double(a.height - kBottom), double(kTop)};
  s += draw_axes(a, f);
  for (size_t i = 0; i < counts.size(); ++i) {
    const double x0 = f.X(edges[i]), x1 = f.X(edges[i + 1]), y = f.Y(counts[i]);
    s += "<rect x=\"" + fmt(x0 + 0.5) + "\" y=\"" + fmt(y) + "\" width=\"" +
         fmt(std::max(0.5, x1 - x0 - 1)) + "\" height=\"" + fmt(std::max(0.0, f.py0 - y)) +
         "\" fill=\"" + palette(0) + "\"><title>[" + html::num(edges[i]) + ", " +
         html::num(edges[i + 1]) + "): " + html::num(counts[i]) + "</title></rect>";
  }
  return s + "</svg>";
}

std::string plot(const Axes& a, const std::vector<Series>& series, bool diagonal) {
  std::string s = open_svg(a, "plot");
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& sr : series)
    for (size_t i = 0; i < sr.x.size() && i < sr.y.size(); ++i)
      if (std::isfinite(sr.x[i]) && std::isfinite(sr.y[i])) {
        x0 = std::min(x0, sr.x[i]), x1 = std::max(x1, sr.x[i]);
        y0 = std::min(y0, sr.y[i]), y1 = std::max(y1, sr.y[i]);
      }
  if (diagonal) x0 = y0 = std::min(x0, y0), x1 = y1 = std::max(x1, y1);
  if (!std::isnan(a.x_min)) x0 = a.x_min;
  if (!std::isnan(a.x_max)) x1 = a.x_max;
  if (!std::isnan(a.y_min)) y0 = a.y_min;
  if (!std::isnan(a.y_max)) y1 = a.y_max;
  widen(x0, x1);
  widen(y0, y1);
  // A little room so that points on the extremes are not drawn on the frame.
  if (std::isnan(a.y_min)) y0 -= (y1 - y0) * 0.05;
  if (std::isnan(a.y_max)) y1 += (y1 - y0) * 0.05;
  if (std::isnan(a.x_min)) x0 -= (x1 - x0) * 0.04;
  if (std::isnan(a.x_max)) x1 += (x1 - x0) * 0.04;
  Frame f{x0, x1, y0, y1, double(kLeft), double(a.width - kRight), double(a.height - kBottom),
          double(kTop)};
  s += draw_axes(a, f);
  if (diagonal)
    s += line(f.X(std::max(x0, y0)), f.Y(std::max(x0, y0)), f.X(std::min(x1, y1)),
              f.Y(std::min(x1, y1)), "#9fb3c8", " stroke-dasharray=\"5,4\"");
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& sr = series[k];
    const std::string color = sr.color.empty() ? palette(k) : sr.color;
    if (sr.line) {
      std::string pts;
      double prev_y = NAN;
      for (size_t i = 0; i < sr.x.size() && i < sr.y.size(); ++i) {
        if (!std::isfinite(sr.x[i]) || !std::isfinite(sr.y[i])) continue;
        if (sr.step && !std::isnan(prev_y)) pts += fmt(f.X(sr.x[i])) + "," + fmt(f.Y(prev_y)) + " ";
        pts += fmt(f.X(sr.x[i])) + "," + fmt(f.Y(sr.y[i])) + " ";
        prev_y = sr.y[i];
      }
      s += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" points=\"" + pts +
           "\"><title>" + escape(sr.name) + "</title></polyline>";
    } else {
      for (size_t i = 0; i < sr.x.size() && i < sr.y.size(); ++i) {
        if (!std::isfinite(sr.x[i]) || !std::isfinite(sr.y[i])) continue;
        s += "<circle cx=\"" + fmt(f.X(sr.x[i])) + "\" cy=\"" + fmt(f.Y(sr.y[i])) +
             "\" r=\"3.2\" fill=\"" + color + "\" fill-opacity=\"0.7\"/>";
      }
    }
  }
  // Legend, top-left inside the plot.
  if (series.size() > 1 || (!series.empty() && !series[0].name.empty())) {
    size_t longest = 0;
    for (const auto& sr : series) longest = std::max(longest, std::min<size_t>(sr.name.size(), 40));
    const double box_w = 30 + 6.2 * static_cast<double>(longest), box_h = 15.0 * series.size() + 6;
    const bool right = a.legend == "tr" || a.legend == "br";
    const bool bottom = a.legend == "bl" || a.legend == "br";
    const double x0 = right ? f.px1 - box_w - 6 : f.px0 + 6;
    double y = (bottom ? f.py0 - box_h - 4 : f.py1 + 2);
    s += "<rect x=\"" + fmt(x0) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(box_w) +
         "\" height=\"" + fmt(box_h) + "\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#d9e2ec\"/>";
    y += 15;
    for (size_t k = 0; k < series.size(); ++k) {
      const std::string color = series[k].color.empty() ? palette(k) : series[k].color;
      s += "<rect x=\"" + fmt(x0 + 6) + "\" y=\"" + fmt(y - 8) +
           "\" width=\"12\" height=\"8\" fill=\"" + color + "\"/>";
      s += text(x0 + 22, y, truncate(series[k].name, 40), "start", 11);
      y += 15;
    }
  }
  return s + "</svg>";
}

std::string heatmap(const Axes& a_in, const std::vector<std::string>& row_labels,
                    const std::vector<std::string>& col_labels,
                    const std::vector<std::vector<double>>& values, double lo, double hi) {
  Axes a = a_in;
  const int label_w = 130, label_h = 90;
  const size_t nr = row_labels.size(), nc = col_labels.size();
  const int cell = std::clamp(420 / static_cast<int>(std::max<size_t>({nr, nc, 1})), 14, 90);
  a.width = std::max(a.width, label_w + cell * static_cast<int>(nc) + 20);
  a.height = kTop + label_h + cell * static_cast<int>(nr) + 16;
  std::string s = open_svg(a, "heatmap");
  const double top = kTop + label_h;
  for (size_t c = 0; c < nc; ++c) {
    const double x = label_w + (c + 0.5) * cell;
    s += "<text transform=\"translate(" + fmt(x + 4) + "," + fmt(top - 6) +
         ") rotate(-50)\" font-size=\"11\" fill=\"#334e68\">" + escape(truncate(col_labels[c], 18)) +
         "</text>";
  }
  for (size_t r = 0; r < nr; ++r) {
    const double y = top + r * cell;
    s += text(label_w - 6, y + cell * 0.6, truncate(row_labels[r], 18), "end", 11);
    for (size_t c = 0; c < nc; ++c) {
      const double v = r < values.size() && c < values[r].size() ? values[r][c] : NAN;
      std::string color = "#eeeeee";
      bool dark = false;
      if (std::isfinite(v)) {
        double t;
        int R, G, B;
        if (lo < 0) {  // diverging: blue (lo) - white - red (hi)
          t = std::clamp(v / (v < 0 ? -lo : hi), -1.0, 1.0);
          if (t < 0) R = int(255 + t * (255 - 38)), G = int(255 + t * (255 - 128)), B = int(255 + t * (255 - 194));
          else R = int(255 - t * (255 - 214)), G = int(255 - t * (255 - 69)), B = int(255 - t * (255 - 69));
          dark = std::fabs(t) > 0.6;
        } else {
          t = hi > lo ? std::clamp((v - lo) / (hi - lo), 0.0, 1.0) : 0;
          R = int(255 - t * (255 - 16)), G = int(255 - t * (255 - 75)), B = int(255 - t * (255 - 140));
          dark = t > 0.55;
        }
        char buf[16];
        std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", R, G, B);
        color = buf;
      }
      const double x = label_w + c * cell;
      s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + std::to_string(cell - 1) +
           "\" height=\"" + std::to_string(cell - 1) + "\" fill=\"" + color + "\"><title>" +
           escape(row_labels[r]) + " / " + escape(col_labels[c]) + ": " + html::num(v) +
           "</title></rect>";
      if (cell >= 26)
        s += "<text x=\"" + fmt(x + cell / 2.0) + "\" y=\"" + fmt(y + cell * 0.6) +
             "\" text-anchor=\"middle\" font-size=\"" + std::to_string(cell >= 40 ? 12 : 9) +
             "\" fill=\"" + (dark ? "#fff" : "#102a43") + "\">" +
             (v == std::round(v) && std::fabs(v) < 1e7 ? html::num(v, 7) : html::num(v, 2)) +
             "</text>";
    }
  }
  if (!a.x_label.empty()) s += text(label_w + cell * nc / 2.0, kTop + 12, a.x_label, "middle", 12);
  return s + "</svg>";
}

std::string sparkline_bars(const std::vector<double>& values, int width, int height) {
  std::string s = "<svg class=\"chart spark\" data-chart=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(width) + "\" height=\"" + std::to_string(height) + "\">";
  double hi = 0;
  for (double v : values) hi = std::max(hi, v);
  if (values.empty() || hi <= 0) return s + "</svg>";
  const double w = static_cast<double>(width) / values.size();
  for (size_t i = 0; i < values.size(); ++i) {
    const double h = (height - 2) * values[i] / hi;
    s += "<rect x=\"" + fmt(i * w) + "\" y=\"" + fmt(height - h) + "\" width=\"" +
         fmt(std::max(0.8, w - 1)) + "\" height=\"" + fmt(h) + "\" fill=\"#2680c2\"/>";
  }
  return s + "</svg>";
}

}  // namespace tabpilot::svg
