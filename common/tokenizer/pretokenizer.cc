#include "common/tokenizer/pretokenizer.h"

#include "common/tokenizer/unicode.h"

namespace routeall::tokenizer::internal {
namespace {

constexpr size_t kFail = static_cast<size_t>(-1);

struct Text {
  const unsigned char* p;
  size_t n;
  Char At(size_t i) const { return DecodeChar(p + i, n - i); }
};

inline unsigned char AsciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c;
}

// Length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at i (cl100k's '(?i:[sdmt]|ll|ve|re) is the same set),
// or 0. No alternative is a prefix of another, so the order does not matter.
size_t Contraction(const Text& t, size_t i) {
  if (i + 1 >= t.n || t.p[i] != '\'') return 0;
  const unsigned char c = AsciiLower(t.p[i + 1]);
  switch (c) {
    case 's':
    case 't':
    case 'm':
    case 'd':
      return 2;
    case 'r':
    case 'v':
      return i + 2 < t.n && AsciiLower(t.p[i + 2]) == 'e' ? 3 : 0;
    case 'l':
      return i + 2 < t.n && AsciiLower(t.p[i + 2]) == 'l' ? 3 : 0;
    case 0xC5:  // U+017F LATIN SMALL LETTER LONG S (C5 BF) case-folds to 's'
      return i + 2 < t.n && t.p[i + 2] == 0xBF ? 3 : 0;
    default:
      return 0;
  }
}

inline bool IsOther(uint8_t f) { return (f & (kFlagSpace | kFlagL | kFlagN)) == 0; }  // [^\s\p{L}\p{N}]
inline bool IsPrefix(uint8_t f) { return (f & (kFlagL | kFlagN | kFlagNewline)) == 0; }  // [^\r\n\p{L}\p{N}]

// o200k alternative 1 from s: [Upper]*[Lower]+C?, where Upper and Lower overlap (Lm, Lo, M).
// The engine takes Upper* greedily and gives characters back until Lower+ can start: if the
// character after the Upper run is Ll, Lower+ starts there; otherwise at the last character of
// the run that is also Lower (and then takes just that one, the next being neither).
size_t O200kLetters1(const Text& t, size_t s) {
  size_t i = s;
  size_t last_lower_end = kFail;
  Char c{0, 0};
  while (i < t.n) {
    c = t.At(i);
    if (!(c.flags & kFlagUpper)) break;
    i += c.len;
    if (c.flags & kFlagLower) last_lower_end = i;
  }
  size_t end;
  if (i < t.n && (c.flags & kFlagLower)) {  // c is the character at i: Ll
    i += c.len;
    while (i < t.n) {
      c = t.At(i);
      if (!(c.flags & kFlagLower)) break;
      i += c.len;
    }
    end = i;
  } else if (last_lower_end != kFail) {
    end = last_lower_end;
  } else {
    return kFail;
  }
  return end + Contraction(t, end);
}

// o200k alternative 2 from s: [Upper]+[Lower]*C?; greedy and never needs to backtrack.
size_t O200kLetters2(const Text& t, size_t s) {
  size_t i = s;
  while (i < t.n) {
    const Char c = t.At(i);
    if (!(c.flags & kFlagUpper)) break;
    i += c.len;
  }
  if (i == s) return kFail;
  while (i < t.n) {
    const Char c = t.At(i);
    if (!(c.flags & kFlagLower)) break;
    i += c.len;
  }
  return i + Contraction(t, i);
}

// N{1,3}
size_t Digits(const Text& t, size_t i, Char c) {
  size_t e = i + c.len;
  for (int k = 1; k < 3 && e < t.n; ++k) {
    const Char d = t.At(e);
    if (!(d.flags & kFlagN)) break;
    e += d.len;
  }
  return e;
}

// ' ?[^\s\p{L}\p{N}]+' then the trailing class ([\r\n] or [\r\n/]); kFail when it cannot start.
template <bool kSlash>
size_t Punctuation(const Text& t, size_t i, Char c) {
  size_t s;
  if (t.p[i] == ' ' && i + 1 < t.n && IsOther(t.At(i + 1).flags)) {
    s = i + 1;
  } else if (IsOther(c.flags)) {
    s = i;
  } else {
    return kFail;
  }
  size_t e = s;
  while (e < t.n) {
    const Char d = t.At(e);
    if (!IsOther(d.flags)) break;
    e += d.len;
  }
  while (e < t.n && (t.p[e] == '\r' || t.p[e] == '\n' || (kSlash && t.p[e] == '/'))) ++e;
  return e;
}

struct SpaceRun {
  size_t end;           // end of the maximal \s run
  size_t last_start;    // start of its last character
  size_t last_nl_end;   // end of its last \r or \n, or kFail
};

SpaceRun ScanSpaces(const Text& t, size_t i) {
  SpaceRun r{i, i, kFail};
  while (r.end < t.n) {
    const Char d = t.At(r.end);
    if (!(d.flags & kFlagSpace)) break;
    r.last_start = r.end;
    r.end += d.len;
    if (d.flags & kFlagNewline) r.last_nl_end = r.end;
  }
  return r;
}

}  // namespace

size_t NextPieceO200k(const unsigned char* p, size_t n, size_t i) {
  const Text t{p, n};
  const Char c = t.At(i);
  const bool prefix = IsPrefix(c.flags);
  if (prefix || (c.flags & (kFlagL | kFlagUpper | kFlagLower))) {
    size_t e;
    if (prefix && (e = O200kLetters1(t, i + c.len)) != kFail) return e;
    if ((e = O200kLetters1(t, i)) != kFail) return e;
    if (prefix && (e = O200kLetters2(t, i + c.len)) != kFail) return e;
    if ((e = O200kLetters2(t, i)) != kFail) return e;
  }
  if (c.flags & kFlagN) return Digits(t, i, c);
  if (const size_t e = Punctuation<true>(t, i, c); e != kFail) return e;
  // Only \s is left.
  const SpaceRun r = ScanSpaces(t, i);
  if (r.last_nl_end != kFail) return r.last_nl_end;  // \s*[\r\n]+
  if (r.end == n) return n;                           // \s+(?!\S) at the end of the text
  if (r.last_start > i) return r.last_start;          // \s+(?!\S): all but the last one
  return r.end;                                       // \s+ : a single space before \S
}

size_t NextPieceCl100k(const unsigned char* p, size_t n, size_t i) {
  const Text t{p, n};
  if (const size_t k = Contraction(t, i)) return i + k;
  const Char c = t.At(i);
  size_t s = kFail;  // start of \p{L}++
  if (c.flags & kFlagL) {
    s = i;
  } else if (IsPrefix(c.flags) && i + c.len < n && (t.At(i + c.len).flags & kFlagL)) {
    s = i + c.len;
  }
  if (s != kFail) {
    while (s < n) {
      const Char d = t.At(s);
      if (!(d.flags & kFlagL)) break;
      s += d.len;
    }
    return s;
  }
  if (c.flags & kFlagN) return Digits(t, i, c);
  if (const size_t e = Punctuation<false>(t, i, c); e != kFail) return e;
  const SpaceRun r = ScanSpaces(t, i);
  if (r.end == n) return n;                           // \s++$
  if (r.last_nl_end != kFail) return r.last_nl_end;  // \s*[\r\n]
  if (r.last_start > i) return r.last_start;          // \s+(?!\S)
  return r.end;                                       // \s
}

}  // namespace routeall::tokenizer::internal
