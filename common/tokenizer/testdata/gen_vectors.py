#!/usr/bin/env python3
"""Writes vectors.json: texts with the token ids OpenAI's tiktoken gives them.

Reference: tiktoken 0.12.0 from PyPI (OpenAI's Rust implementation) with the rank files that
scripts/lib/tokenizer_data.sh fetches, and the patterns of tiktoken_ext/openai_public.py:

    python3 -m venv /tmp/tt && /tmp/tt/bin/pip install tiktoken==0.12.0 regex==2026.11.19
    /tmp/tt/bin/python common/tokenizer/testdata/gen_vectors.py .cache/tokenizer \\
        > common/tokenizer/testdata/vectors.json

Valid UTF-8 texts: ids = Encoding.encode_ordinary(text) (special tokens are plain text).

Invalid UTF-8 (tiktoken's str API cannot take such bytes; its private bytes path re-encodes
everything after the first bad byte as one piece): the documented RouteAll rule is that every byte
outside a well-formed sequence is a character of its own that is neither letter, number nor space.
That is exactly Python's "surrogateescape" decoding (each bad byte becomes a lone surrogate,
category Cs), so ids = tiktoken's own BPE (_encode_single_piece) over the pieces that the same
pattern finds in that string with the `regex` module. The script first checks that this
split+BPE route equals encode_ordinary on every valid text here, so both routes agree wherever
tiktoken is defined.
"""
import base64
import json
import os
import random
import sys

import regex
import tiktoken
from tiktoken_ext import openai_public


HASHES = {"o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
          "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"}


def load(data_dir, name):
    # tiktoken's own constructor (pattern, special tokens), reading the local file instead of
    # downloading it; load_tiktoken_bpe checks the hash.
    local = os.path.join(data_dir, name + ".tiktoken")
    real = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda _url, expected_hash=None: real(local, HASHES[name])
    try:
        ctor = getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = real
    return tiktoken.Encoding(**ctor)


def corpus():
    out = []

    def add(name, text):
        out.append((name, text if isinstance(text, bytes) else text.encode("utf-8")))

    # English and prose
    add("english_sentence", "The quick brown fox jumps over the lazy dog.")
    add("english_paragraph",
        "When a client disconnects mid-stream, the gateway cancels the upstream request, so the "
        "provider's usage report never arrives. We then count the tokens that were actually "
        "produced, and the prompt, with the real tokenizer - never a character-count guess.\n\n"
        "Billing must be exact: 1 token off on a million requests is a million tokens.")
    add("english_quotes", "\"Hello,\" she said. 'Goodbye!' -- (parenthetical) [bracket] {brace}")
    add("hello_world", "hello world")
    add("empty_like_space", " ")
    add("single_letter", "a")
    add("single_newline", "\n")
    # contractions
    add("contractions", "It's they'LL I'M we'Re you've he'd she'D can't don't won't isn't")
    add("contractions_upper", "IT'S THEY'LL WE'VE I'D YOU'RE")
    add("contraction_alone", "'s 'S 't 're 've 'm 'll 'd 'x 'l")
    add("contraction_long_s", "it\u017f it'\u017f '\u017f IT'\u017f")
    add("contraction_after_digit", "1990's 80's 7'll")
    add("contraction_after_cjk", "\u4e2d\u6587's \u05e9's \u0645's")
    add("apostrophes_runs", "''s '''ll rock'n'roll o'clock O'Neill")
    # numbers
    add("numbers", "1234567 12 123 1234 12345 123456")
    add("numbers_mixed", "3.14159 1,000,000 -42 +7 1e10 0x1F 2024-11-25 12:30:45 $19.99 50%")
    add("numbers_long", "12345678901234567890123456789")
    add("numbers_unicode", "\u0661\u0662\u0663\u0664 \u0967\u0968\u0969 \u2460\u2461 \u00bd \u2167 \uff11\uff12\uff13")
    add("letters_digits", "abc123def456 A1B2C3 x86_64 utf8 GPT4o")
    # whitespace
    add("ws_run_newlines", "a  \n\n  b")
    add("ws_trailing", "hello   ")
    add("ws_trailing_newline", "hello\n")
    add("ws_trailing_newline_spaces", "hello\n   ")
    add("ws_leading", "   hello")
    add("ws_tabs", "\t\tindented\tword\t")
    add("ws_crlf", "line1\r\nline2\r\n\r\nline4\r\n")
    add("ws_mixed", " \n \n\t \r\n  x  \n\n\n   y \t \n")
    add("ws_only", "      ")
    add("ws_only_newlines", "\n\n\n")
    add("ws_unicode", "a\u00a0b\u3000c\u2028d\u2029e\u0085f\u1680g\u2003h\u202fi\u205fj")
    add("ws_unicode_runs", "x\u00a0\u00a0\u00a0y  \u3000z\u2003 \n\u2003w")
    add("ws_vt_ff", "a\x0b\x0cb \x0b c\x0c\nd")
    add("ws_before_punct", "a   !!! b \t?? c\n\n...")
    add("space_digit", "a 1 22 333 4444")
    add("controls", "a\x00b\x01c\x1bd\x7fe\x1cf\x1dg\x1eh\x1fi")
    # punctuation and symbols
    add("punct_runs", "!!!??? ... --- *** ### @@@ ~~~ ^^^ ||| \\\\ //// :;:;")
    add("punct_newlines", "end.\n\nnext!\r\n\r\n?\n")
    add("slashes", "a/b//c///d\n/\n//\nhttps://example.com/path/to/file.txt?q=1&r=2#frag")
    add("paths", "/usr/local/bin/routeall C:\\Program Files\\RouteAll\\bin ../..//x/")
    add("symbols", "\u00a9\u00ae\u2122 \u20ac\u00a3\u00a5 \u2190\u2192 \u2211\u222b\u221a \u2605\u2606 \u00b0C")
    add("special_token_text", "<|endoftext|> <|endofprompt|> <|fim_prefix|>x<|fim_suffix|><|im_start|>")
    # code
    add("code_cpp",
        "#include <vector>\n\nint main(int argc, char** argv) {\n  std::vector<int> v{1, 2, 3};\n"
        "  for (auto& x : v) x *= 2;  // double\n  return v.size() > 2 ? 0 : 1;\n}\n")
    add("code_python",
        "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"
        "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n"
        "print([fib(i) for i in range(10)])  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\n")
    add("code_json", '{"model":"gpt-4o","messages":[{"role":"user","content":"Hi!"}],"stream":true,'
                     '"max_tokens":256,"temperature":0.7,"stop":null}')
    add("code_html", "<!DOCTYPE html>\n<html lang=\"en\"><head><title>RouteAll</title></head>\n"
                     "<body><p class='x'>Hello &amp; welcome</p></body></html>")
    add("code_shell", "set -euo pipefail\nfor f in *.txt; do echo \"$f\" | tr a-z A-Z >> out.log; done\n")
    add("code_sql", "SELECT id, SUM(tokens) AS total FROM usage WHERE ts >= NOW() - INTERVAL '1 day' GROUP BY id;")
    add("code_regex", r"^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)$")
    # case patterns (o200k splits case changes)
    add("camel_case", "HelloWorldFooBar getHTTPResponseCode XMLHttpRequest iPhone McDonald eBay")
    add("all_caps", "HTTP SERVER ERROR NASA FBI ABCdef ABC")
    add("title_case_lt", "\u01c5ungla \u01c8ubljana \u01cbovember \u1f88\u1f89 \u01f2ebra")
    add("modifier_letters", "a\u02b0b \u02b0\u02b1 x\u02c6y \u3005\u3005 \u02bcs")
    # scripts
    add("cjk_chinese", "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002\u6211\u4eec\u53bb\u516c\u56ed\u5427\u3002")
    add("cjk_japanese", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002\u30ab\u30bf\u30ab\u30ca\u3068\u3072\u3089\u304c\u306a\u3002\uff8a\uff9d\uff76\uff78")
    add("cjk_korean", "\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4! \ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8.")
    add("cjk_ext_b", "\U00020000\U0002a6d6\U00030000 \U000323af")
    add("arabic", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645! \u0647\u0630\u0627 \u0646\u0635 \u0639\u0631\u0628\u064a\u064c \u0645\u064f\u0634\u064e\u0643\u0651\u064e\u0644.")
    add("hebrew", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd, \u05d6\u05d4 \u05d8\u05e7\u05e1\u05d8 \u05d1\u05e2\u05d1\u05e8\u05d9\u05ea.")
    add("cyrillic", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u042d\u0442\u043e \u0442\u0435\u0441\u0442\u043e\u0432\u044b\u0439 \u0442\u0435\u043a\u0441\u0442. \u041c\u041e\u0421\u041a\u0412\u0410")
    add("greek", "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5! \u0391\u0392\u0393 \u03b1\u03b2\u03b3")
    add("devanagari", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e\u0964 \u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e")
    add("thai", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01 \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22")
    add("vietnamese", "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u: \u0111\u01b0\u1eddng ph\u1ed1 H\u00e0 N\u1ed9i")
    add("german_french", "Stra\u00dfe \u00fcber \u00c4rger \u2014 \u00e7a va? l'\u00e9t\u00e9 \u00e0 No\u00ebl, na\u00efve caf\u00e9")
    add("mixed_scripts", "English\u4e2d\u6587\u0627\u0644\u0639\u0631\u0628\u064a\u0629\u0420\u0443\u0441\u0441\u043a\u0438\u0439123\u65e5\u672c")
    # combining marks
    add("combining_acute", "e\u0301 cafe\u0301 E\u0301COLE n\u0303o")
    add("combining_only", "\u0301\u0302\u0303 \u0301a \u0301A \u0301 ")
    add("combining_after_punct", "!\u0301x .\u0301 \u20dd1 (\u0301)")
    add("combining_after_digit", "1\u0301 2\u20e3 #\ufe0f\u20e3")
    add("zalgo", "Z\u0324\u0354\u0367\u0311\u0313a\u0364\u0356\u032d\u0308\u0307l\u036e\u0312\u036bg\u030c\u0317\u035a\u031ao\u0319\u0314\u036e\u0307\u0350\u0307")
    add("spacing_marks", "\u0915\u093e \u0915\u093f \u0d15\u0d4a A\u0903 a\u0903")
    # emoji
    add("emoji_simple", "I \u2764\ufe0f RouteAll \U0001f680\U0001f525\U0001f44d")
    add("emoji_zwj_family", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family")
    add("emoji_zwj_mixed", "\U0001f469\u200d\U0001f4bb\U0001f3f3\ufe0f\u200d\U0001f308\U0001f9d1\U0001f3fd\u200d\U0001f680")
    add("emoji_flags", "\U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5\U0001f1e9\U0001f1ea \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f")
    add("emoji_skin_tones", "\U0001f44d\U0001f3fb\U0001f44d\U0001f3fc\U0001f44d\U0001f3fd\U0001f44d\U0001f3fe\U0001f44d\U0001f3ff")
    add("emoji_keycaps_text", "1\ufe0f\u20e3 press \u0023\ufe0f\u20e3 then \u2122\ufe0f")
    add("emoji_in_words", "hello\U0001f600world \U0001f600hello hello\U0001f600 \U0001f600\U0001f600\U0001f600")
    add("zero_width", "a\u200bb\u200cc\u200dd\ufeffe\u2060f")
    add("private_use", "\ue000\uf8ff\U000f0000 x\ue000y")
    add("noncharacters", "\ufdd0\ufffe\uffff\U0010fffe\U0010ffff")
    add("replacement_char", "\ufffd\ufffd bad\ufffdtext")
    add("unicode16_new", "\U00011f00\U00011f02 \U0001e5d0\U0001e5d1 \U000105c0 \u1c89\u1c8a")
    # invalid UTF-8 (bytes)
    add("invalid_lone_ff", b"\xff")
    add("invalid_in_word", b"abc\xffdef")
    add("invalid_truncated_2", b"caf\xc3")
    add("invalid_truncated_3", b"\xe2\x82 euro")
    add("invalid_truncated_4", b"\xf0\x9f\x98 smile\xf0\x9f")
    add("invalid_surrogate", b"\xed\xa0\x80\xed\xbf\xbf x")
    add("invalid_overlong", b"\xc0\xaf \xe0\x80\xaf \xc1\xbf")
    add("invalid_above_max", b"\xf4\x90\x80\x80 \xf5\x80\x80\x80 \xf8\x88\x80\x80\x80")
    add("invalid_continuations", b"\x80\x81\xbf a\x80b  \x80\n")
    add("invalid_mixed", b"Hello \xff\xfeWorld\xc3\xa9\xc3 caf\xc3\xa9 \xe4\xb8\xad\xe6\x96 1\xff2 's\xff'")
    add("invalid_before_space", b"\xff \xff  \xff\n\xff")
    add("invalid_run", b"\xc3\xc3\xc3\xc3\xc3\xc3\xc3\xc3")
    add("invalid_cut_stream", "Thank you for your question about caf\u00e9s \u2014 here is".encode() + b"\xe2\x80")
    # long pieces
    add("long_word_a", "a" * 5000)
    add("long_word_repeat", "supercalifragilisticexpialidocious" * 60)
    add("long_upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 40)
    add("long_digits", "1234567890" * 300)
    add("long_punct", "!?.,;:-_=+*&^%$#@" * 60)
    add("long_spaces", " " * 3000 + "x" + " " * 3000)
    add("long_newlines", "\n" * 500 + "x" + "\r\n" * 300)
    add("long_base64", base64.b64encode(bytes(range(256)) * 12).decode())
    add("long_hex", "".join("%02x" % ((i * 37 + 11) % 256) for i in range(2000)))
    add("long_cjk", "\u7684\u4e00\u662f\u5728\u4e0d\u4e86\u6709\u548c\u4eba\u8fd9" * 200)
    add("long_emoji", "\U0001f600" * 700)
    add("long_zalgo_marks", "a" + "\u0301" * 1000)
    add("long_invalid", bytes([0xff, 0xfe, 0x80]) * 300)
    add("long_mixed_word", "x" + "".join(chr(0x61 + (i * 7) % 26) for i in range(4000)))
    return out


def random_corpus(seed, count):
    rng = random.Random(seed)
    pool = (list("aeiouxyzAEIOUXYZ") + list("0123456789") + list("  \t\n\r\n") +
            list("'''sStTrReEvVmMlLdD") + list(".,!?/\\-_()[]{}<>\"#@$%^&*=+:;|~`") +
            ["\u00e9", "\u00c9", "\u00df", "\u01c5", "\u02b0", "\u3005", "\u4e2d", "\u6587", "\u0301",
             "\u0903", "\u20dd", "\u0645", "\u05e9", "\u0416", "\u0436", "\u03a9", "\u03c9", "\u0661",
             "\u2167", "\u00bd", "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b", "\u000c", "\u200d",
             "\ufe0f", "\U0001f600", "\U0001f44d", "\U0001f3fd", "\u2764", "\u00a9", "\u017f", "\ue000",
             "\u0000", "\u001c", "\u001f", "\u007f", "\ufffd", "\U00020000", "\u1c89", "\u0130", "\u0131"])
    bad = [b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\x80", b"\xed\xa0\x80", b"\xc0\xaf"]
    out = []
    for k in range(count):
        n = rng.randint(1, 40)
        parts = []
        for _ in range(n):
            r = rng.random()
            if k % 4 == 3 and r < 0.12:
                parts.append(rng.choice(bad))
            elif r < 0.25:  # runs make the interesting cases (ws runs, letter runs, digit runs)
                parts.append((rng.choice(pool) * rng.randint(2, 5)).encode("utf-8", "surrogatepass"))
            else:
                parts.append(rng.choice(pool).encode("utf-8"))
        out.append(("random_%03d" % k, b"".join(parts)))
    return out


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else ".cache/tokenizer"
    encs = {name: load(data_dir, name) for name in ("o200k_base", "cl100k_base")}
    pats = {name: regex.compile(enc._pat_str) for name, enc in encs.items()}

    def split_bpe(name, data):
        s = data.decode("utf-8", "surrogateescape")
        ids = []
        for m in pats[name].finditer(s):
            ids += encs[name]._encode_single_piece(m.group().encode("utf-8", "surrogateescape"))
        assert "".join(m.group() for m in pats[name].finditer(s)) == s  # no gaps
        return ids

    vectors = []
    for name, data in corpus() + random_corpus(20261125, 400):
        entry = {"name": name}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            entry["text"] = text
        entry["text_b64"] = base64.b64encode(data).decode()
        for enc_name, key in (("o200k_base", "o200k"), ("cl100k_base", "cl100k")):
            via_split = split_bpe(enc_name, data)
            if text is not None:
                ids = encs[enc_name].encode_ordinary(text)
                assert ids == via_split, (name, enc_name)
                entry[key] = ids
            else:
                entry[key] = via_split
        entry["reference"] = "tiktoken.encode_ordinary" if text is not None else "surrogateescape+tiktoken_bpe"
        vectors.append(entry)
    meta = {
        "generator": "common/tokenizer/testdata/gen_vectors.py",
        "tiktoken": tiktoken.__version__ if hasattr(tiktoken, "__version__") else "0.12.0",
        "regex": regex.__version__,
        "count": len(vectors),
    }
    json.dump({"meta": meta, "vectors": vectors}, sys.stdout, ensure_ascii=True, indent=None,
              separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
