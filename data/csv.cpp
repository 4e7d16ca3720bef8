#include "tabpilot/data/csv.h"

#include <fcntl.h>     // for open
#include <sys/mman.h>  // for mmap: the file is read through one mapping
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>  // for popcount, countr_zero
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <unordered_map>
#if defined(__SSE2__)
#include <emmintrin.h>  // for the 16-byte scans; other targets take the scalar loops
#endif

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/data/column_builder.h"

namespace tabpilot {
namespace {

using detail::make_span;

// Offset of the first byte that breaks UTF-8 (overlong forms and surrogates included) or is
// NUL, or npos; counts newlines on the way, which bounds the row count. Sixteen ASCII bytes at a time
// where SSE2 is there, since most CSV text is ASCII.
size_t check_utf8_count_lines(std::string_view s, size_t* newlines) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0, lines = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  // Newlines are summed per byte lane (a match is -1, subtracted) and folded with psadbw
  // before a lane can overflow: no popcount, which plain x86-64 lacks as an instruction.
  auto fold = [&](__m128i acc) {
    const __m128i sums = _mm_sad_epu8(acc, zero);
    return static_cast<size_t>(_mm_cvtsi128_si32(sums)) +
           static_cast<size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums)));
  };
#endif
  while (i < n) {
#if defined(__SSE2__)
    __m128i acc = zero;
    int folded_in = 0;
    while (i + 64 <= n) {
      const auto* q = reinterpret_cast<const __m128i*>(b + i);
      const __m128i v0 = _mm_loadu_si128(q), v1 = _mm_loadu_si128(q + 1);
      const __m128i v2 = _mm_loadu_si128(q + 2), v3 = _mm_loadu_si128(q + 3);
      // Non-ASCII bytes (high bit) and NUL bytes leave the fast path.
      const __m128i nul = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v0, zero), _mm_cmpeq_epi8(v1, zero)),
          _mm_or_si128(_mm_cmpeq_epi8(v2, zero), _mm_cmpeq_epi8(v3, zero)));
      if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3)),
                                         nul)) != 0) {
        break;
      }
      acc = _mm_sub_epi8(acc, _mm_add_epi8(_mm_add_epi8(_mm_cmpeq_epi8(v0, nl),
                                                        _mm_cmpeq_epi8(v1, nl)),
                                           _mm_add_epi8(_mm_cmpeq_epi8(v2, nl),
                                                        _mm_cmpeq_epi8(v3, nl))));
      i += 64;
      if (++folded_in == 63) {  // at most 4 per lane per step: 252 < 256
        lines += fold(acc);
        acc = zero;
        folded_in = 0;
      }
    }
    lines += fold(acc);
    if (i >= n) break;
#endif
    const unsigned char c = b[i];
    if (c == 0) return i;  // a NUL byte: never text (UTF-16 or a binary file)
    if (c < 0x80) {
      lines += c == '\n';
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (b[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return i;
    }
    i += len;
  }
  *newlines = lines;
  return std::string_view::npos;
}

// One pass over the text: records into per-column spans, quoted fields with doubled quotes
// unescaped into `arena`, physical line numbers tracked for messages.
class Tokenizer {
 public:
  Tokenizer(std::string_view text, const std::string& source, char delimiter)
      : text_(text), source_(source), delim_(delimiter) {
    special_[static_cast<unsigned char>(delimiter)] = true;
    special_['\n'] = special_['\r'] = true;
    for (const unsigned char c : {' ', '\t'}) {
      blank_[c] = c != static_cast<unsigned char>(delimiter);
    }
  }

  [[noreturn]] void fail(size_t line, const std::string& what) const {
    throw InputError(source_ + ":" + std::to_string(line) + ": " + what);
  }

  size_t line() const { return line_; }
  std::string& arena() { return arena_; }

  // Skips empty and blank lines; false at the end of the text.
  bool next_record_start() {
    const size_t n = text_.size();
    while (pos_ < n) {
      size_t p = pos_;
      while (p < n && blank(text_[p])) ++p;
      if (p == n) {
        pos_ = n;
        return false;
      }
      if (text_[p] != '\n' && text_[p] != '\r') return true;
      pos_ = p + (text_[p] == '\r' && p + 1 < n && text_[p + 1] == '\n' ? 2 : 1);
      ++line_;
    }
    return false;
  }

  // Parses one record starting at the current position, calling emit(index, span) for each
  // field; returns the number of fields.
  template <class Emit>
  size_t record(Emit&& emit) {
    const char* d = text_.data();
    const size_t n = text_.size();
    size_t field = 0;
    size_t p = pos_;
    while (true) {
      while (p < n && blank(d[p])) ++p;
      uint64_t span;
      if (p < n && d[p] == '"') {
        p = quoted(p, &span);
      } else {
        const size_t start = p;
        p = find_special(p);
        size_t end = p;
        while (end > start && blank(d[end - 1])) --end;
        span = make_span(start, end - start);
        if (end - start > detail::kMaxFieldLength) too_long();
      }
      emit(field++, span);
      if (p < n && d[p] == delim_) {
        ++p;
        continue;
      }
      if (p < n) {
        p += d[p] == '\r' && p + 1 < n && d[p + 1] == '\n' ? 2 : 1;
        ++line_;
      }
      pos_ = p;
      return field;
    }
  }

 private:
  bool blank(char c) const { return blank_[static_cast<unsigned char>(c)]; }

  // Bit k set where byte base + k is a delimiter or line break; bits past the end are clear.
  uint64_t special_mask(size_t base) const {
    const char* d = text_.data();
    const size_t n = text_.size();
#if defined(__SSE2__)
    if (base + 64 <= n) {
      const __m128i delim = _mm_set1_epi8(delim_), lf = _mm_set1_epi8('\n');
      const __m128i cr = _mm_set1_epi8('\r');
      uint64_t mask = 0;
      for (int k = 0; k < 4; ++k) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + base + 16 * k));
        const __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, delim), _mm_cmpeq_epi8(v, lf)), _mm_cmpeq_epi8(v, cr));
        mask |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(hit))) << (16 * k);
      }
      return mask;
    }
#endif
    uint64_t mask = 0;
    const size_t stop = std::min(n, base + 64);
    for (size_t k = base; k < stop; ++k) {
      mask |= static_cast<uint64_t>(special_[static_cast<unsigned char>(d[k])]) << (k - base);
    }
    return mask;
  }

  // The first delimiter or line break at or after p, or the end of the text. Fields are
  // short, so the mask of the current 64-byte block is kept and serves several fields.
  size_t find_special(size_t p) {
    const size_t n = text_.size();
    while (p < n) {
      const size_t base = p & ~size_t{63};
      if (base != mask_base_) {
        mask_ = special_mask(base);
        mask_base_ = base;
      }
      const uint64_t m = mask_ >> (p - base);
      if (m != 0) return p + std::countr_zero(m);
      p = base + 64;
    }
    return n;
  }

  [[noreturn]] void too_long() const {
    fail(line_, "a field is longer than 16 MiB; this reader does not support such fields");
  }

  // `p` is at the opening quote. Returns the position after the field (and any blanks).
  size_t quoted(size_t p, uint64_t* span) {
    const char* d = text_.data();
    const size_t n = text_.size();
    const size_t open_line = line_;
    const size_t content = p + 1;
    size_t q = content;
    bool in_arena = false;
    size_t arena_start = 0;
    auto to_arena = [&] {
      if (!in_arena) {
        in_arena = true;
        arena_start = arena_.size();
      }
    };
    while (true) {
      const void* hit = q < n ? std::memchr(d + q, '"', n - q) : nullptr;
      if (hit == nullptr) {
        fail(open_line,
             "unterminated quoted field (the quote opens on this line); close it, "
             "or write a literal quote inside a quoted field as \"\"");
      }
      const size_t h = static_cast<const char*>(hit) - d;
      line_ += std::count(d + q, d + h, '\n');
      if (h + 1 < n && d[h + 1] == '"') {  // "" inside quotes is one literal quote
        to_arena();
        arena_.append(d + q, h + 1 - q);
        q = h + 2;
        continue;
      }
      if (in_arena) arena_.append(d + q, h - q);
      size_t after = h + 1;
      while (after < n && blank(d[after])) ++after;
      if (after < n && !special_[static_cast<unsigned char>(d[after])]) {
        // Text after the closing quote ("ab"cd): kept as part of the value, as pandas does.
        if (!in_arena) {
          to_arena();
          arena_.append(d + content, h - content);
        }
        const size_t start = h + 1;
        while (after < n && !special_[static_cast<unsigned char>(d[after])]) ++after;
        size_t end = after;
        while (end > start && blank(d[end - 1])) --end;
        arena_.append(d + start, end - start);
      }
      const size_t length = in_arena ? arena_.size() - arena_start : h - content;
      if (length > detail::kMaxFieldLength) too_long();
      *span = in_arena ? make_span(text_.size() + arena_start, length) : make_span(content, length);
      return after;
    }
  }

  std::string_view text_;
  const std::string& source_;
  char delim_;
  bool special_[256] = {};
  bool blank_[256] = {};  // space and tab, unless one is the delimiter
  size_t mask_base_ = SIZE_MAX;
  uint64_t mask_ = 0;
  size_t pos_ = 0;
  size_t line_ = 1;
  std::string arena_;
};

}  // namespace

namespace {

// The pages of a read-only file mapping below `upto` that are fully converted: dropped from
// memory (MADV_DONTNEED re-reads them from the file if a late retype needs them again), so
// the file's text and the growing table are not resident together.
void release_mapped_text(std::string_view text, size_t upto, size_t& released) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<uintptr_t>(text.data());
  const uintptr_t from = (base + released + page - 1) / page * page;
  const uintptr_t to = (base + upto) / page * page;
  if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  released = upto;
}

Table parse_text(std::string_view text, const std::string& source_name, const CsvOptions& options,
                 bool text_is_file_mapping);

}  // namespace

Table parse_csv(std::string_view text, const std::string& source_name, const CsvOptions& options) {
  return parse_text(text, source_name, options, false);
}

namespace {

Table parse_text(std::string_view text, const std::string& source_name, const CsvOptions& options,
                 bool text_is_file_mapping) {
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) {
    text.remove_prefix(3);  // offsets stay relative to the text after the BOM
  }
  size_t newlines = 0;
  const size_t bad = check_utf8_count_lines(text, &newlines);
  if (bad != std::string_view::npos) {
    const size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
    const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    const size_t column =
        line_start == std::string_view::npos || bad == 0 ? bad + 1 : bad - line_start;
    if (text[bad] == '\0')
      throw InputError(source_name + ":" + std::to_string(line) + ": a NUL byte (byte " +
                       std::to_string(column) + " of the line); CSV text holds none: re-save "
                       "the file as UTF-8 text (is it UTF-16 or binary?)");
    throw InputError(source_name + ":" + std::to_string(line) + ": bytes that are not valid " +
                     "UTF-8 (byte " + std::to_string(column) + " of the line); " +
                     "re-save the file as UTF-8");
  }
  if (text.size() > detail::kMaxSpanOffset / 2) {
    throw InputError(source_name + ": the file is larger than 512 GiB; split it");
  }
  Tokenizer tok(text, source_name, options.delimiter);
  if (!tok.next_record_start()) {
    tok.fail(1, "the file is empty; a CSV needs a header row and at least one data row");
  }

  // Header.
  const size_t header_line = tok.line();
  std::vector<uint64_t> header_spans;
  tok.record([&](size_t, uint64_t span) { header_spans.push_back(span); });
  const size_t cols = header_spans.size();
  if (cols > options.max_columns) {
    tok.fail(header_line, "the header has " + std::to_string(cols) + " columns, more than the " +
                              "limit of " + std::to_string(options.max_columns) +
                              "; select fewer columns or raise CsvOptions::max_columns");
  }
  std::vector<std::string> names(cols);
  {
    detail::FieldStore header{text, tok.arena(), source_name, nullptr};
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t c = 0; c < cols; ++c) {
      names[c] = std::string(header.view(header_spans[c]));
      if (names[c].empty()) {
        tok.fail(header_line, "column " + std::to_string(c + 1) + " has an empty name; " +
                                  "give every column a name in the header row");
      }
    }
    for (size_t c = 0; c < cols; ++c) {
      auto [it, added] = seen.emplace(names[c], c);
      if (!added) {
        tok.fail(header_line, "duplicate column name '" + names[c] + "' (columns " +
                                  std::to_string(it->second + 1) + " and " + std::to_string(c + 1) +
                                  "); rename one of them");
      }
    }
  }

  // Body: one pass into a row-major span matrix. Newlines bound the row count, so one
  // allocation suffices; it is left uninitialised since every cell of a kept row is written.
  // Bare '\r' line ends are not counted, so such a file may grow the matrix.
  size_t row_bound = newlines + 1;
  std::unique_ptr<uint64_t[]> matrix(new uint64_t[row_bound * cols]);
  detail::advise_huge_pages(matrix.get(), row_bound * cols * sizeof(uint64_t));
  std::vector<uint32_t> record_lines;
  detail::reserve_huge(record_lines, row_bound);
  uint64_t* row = matrix.get();
  while (tok.next_record_start()) {
    if (record_lines.size() == row_bound) {
      const size_t grown = row_bound * 2;
      std::unique_ptr<uint64_t[]> bigger(new uint64_t[grown * cols]);
      std::memcpy(bigger.get(), matrix.get(), row_bound * cols * sizeof(uint64_t));
      matrix = std::move(bigger);
      row = matrix.get() + row_bound * cols;
      row_bound = grown;
    }
    const size_t line = tok.line();
    const size_t found = tok.record([&](size_t i, uint64_t span) {
      if (i < cols) row[i] = span;
    });
    if (found != cols) {
      tok.fail(line, "expected " + std::to_string(cols) + " fields (as in the header), found " +
                         std::to_string(found) + "; quote fields that contain '" +
                         std::string(1, options.delimiter) + "' or fix the row");
    }
    record_lines.push_back(static_cast<uint32_t>(line));
    row += cols;
  }
  if (record_lines.empty()) {
    tok.fail(header_line + 1, "no data rows after the header; the file needs at least one row");
  }

  for (const auto& name : options.required_columns)
    if (std::find(names.begin(), names.end(), name) == names.end())
      throw InputError(source_name + ": missing feature column '" + name + "'" +
                       options.required_note);
  for (const auto& [name, type] : options.type_overrides) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      if (!options.override_option.empty())
        throw InputError(options.override_option + " " + name + "=" +
                         std::string(to_string(type)) + ": " + source_name +
                         " has no column named '" + name + "'");
      log::warn(source_name + ": type override for '" + name + "' names no column; ignored");
    }
  }
  Table table;
  table.num_rows = record_lines.size();
  table.columns.reserve(cols);
  const detail::FieldStore store{text, tok.arena(), source_name, &record_lines};
  const detail::MissingMarkers missing(options.missing_markers);
  std::vector<detail::ColumnBuilder> builders;
  builders.reserve(cols);
  for (size_t c = 0; c < cols; ++c) {
    builders.emplace_back(store, std::move(names[c]),
                          detail::SpanColumn(matrix.get() + c, cols, table.num_rows), options,
                          missing);
  }
  // Row blocks of about 16 KiB of text: every column converts a block while it is cached.
  // Small enough that the block's text and spans stay in L1 across all the columns (on the
  // bench file 16 KiB read ~15% faster than 256 KiB, which only fits L2).
  const size_t rows = table.num_rows;
  const size_t block = std::max<size_t>(16, (size_t{16} << 10) / (text.size() / rows + 1));
  size_t released = 0;
  constexpr size_t kReleaseStep = size_t{32} << 20;
  for (size_t end = std::min(block, rows);; end = std::min(end + block, rows)) {
    for (detail::ColumnBuilder& b : builders) b.add_rows(end);
    if (end == rows) break;
    if (text_is_file_mapping) {
      const uint64_t next = matrix.get()[end * cols] >> detail::kSpanLengthBits;
      if (next < text.size() && next >= released + kReleaseStep)
        release_mapped_text(text, next, released);
    }
  }
  for (detail::ColumnBuilder& b : builders) table.columns.push_back(b.finish());
  return table;
}

}  // namespace

Table read_csv(const std::string& path, const CsvOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path + ": is a directory, not a CSV file; pass the file's path");
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    throw InputError(path + ": cannot open (" + std::strerror(errno) + "); check the path");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size == 0) {
    ::close(fd);
    return parse_csv(std::string_view(), path, options);  // the empty-file message
  }
  const auto size = static_cast<size_t>(info.st_size);
  // Mapping the file skips a copy of every byte and the page faults of a fresh buffer;
  // MAP_POPULATE maps it in one go instead of one fault per page.
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (mapped != MAP_FAILED) {
    ::close(fd);
    std::unique_ptr<void, std::function<void(void*)>> unmap(mapped,
                                                            [size](void* p) { ::munmap(p, size); });
    return parse_text(std::string_view(static_cast<const char*>(mapped), size), path, options,
                      /*text_is_file_mapping=*/true);
  }
  // Not mappable (a pipe, some network file systems): read it instead.
  std::unique_ptr<char[]> buffer(new char[size]);
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buffer.get() + got, size - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != size) {
    throw InputError(path + ": read " + std::to_string(got) + " of " + std::to_string(size) +
                     " bytes; check that the file is not being written to");
  }
  return parse_csv(std::string_view(buffer.get(), size), path, options);
}

namespace {
bool needs_quotes(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  return s.find_first_of(",\"\r\n") != std::string_view::npos;
}

}  // namespace

void append_csv_field(std::string& out, std::string_view s) {
  if (!needs_quotes(s)) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}


void write_csv(const Table& table, const std::string& path) {
  std::string out;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (c) out.push_back(',');
    append_csv_field(out, table.columns[c].name);
  }
  out.push_back('\n');
  for (size_t r = 0; r < table.num_rows; ++r) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (c) out.push_back(',');
      append_csv_field(out, table.columns[c].value_string(r));
    }
    out.push_back('\n');
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"),
                                                       &std::fclose);
  if (!file || std::fwrite(out.data(), 1, out.size(), file.get()) != out.size()) {
    throw InputError(path + ": cannot write (" + std::strerror(errno) + "); check the folder");
  }
}

}  // namespace tabpilot
