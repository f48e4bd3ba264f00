// Internal: tiktoken's pre-tokenization regexes as hand-written scanners over UTF-8.
//
// Each function returns the end of the regex match that starts at `i` (< n); the patterns always
// match at least one character, so text splits into consecutive pieces with no gaps.
//
// o200k_base (tiktoken 0.12.0, tiktoken_ext/openai_public.py):
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//  |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//  |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
// cl100k_base:
//   '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+
//  |\s++$|\s*[\r\n]|\s+(?!\S)|\s
// (the older spelling without possessives, (?i:'s|'t|'re|'ve|'m|'ll|'d)|...|\s*[\r\n]+|\s+(?!\S)|\s+,
// matches the same pieces). Alternatives are tried in order, each with the backtracking of a
// Perl-style engine (fancy-regex); the scanners reproduce that exactly. (?i:s) also matches
// U+017F LATIN SMALL LETTER LONG S, as Unicode case folding does in that engine.
#pragma once

#include <cstddef>

namespace routeall::tokenizer::internal {

size_t NextPieceO200k(const unsigned char* p, size_t n, size_t i);
size_t NextPieceCl100k(const unsigned char* p, size_t n, size_t i);

}  // namespace routeall::tokenizer::internal
