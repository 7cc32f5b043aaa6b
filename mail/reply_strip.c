/* reply_strip: the words of a reply, without quoted mail and signatures. */
#include "reply_strip.h"

#include <regex.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/*
 * How it works: every line gets a kind from small table-driven
 * matchers, then a few rules on the sequence of kinds decide what is
 * the writer's own text. A reply header ("On ... wrote:") may wrap, so
 * its matcher joins up to RS_MAX_JOIN lines.
 */
#define RS_MAX_JOIN	6	/* lines one reply header may span */
#define RS_MAX_HEAD	512	/* bytes a reply header may have */
#define RS_MAX_BLOCK	10	/* lines an Outlook header block may span */

enum rs_kind {
	RS_EMPTY,	/* blank */
	RS_TEXT,	/* the writer's words, or so we assume */
	RS_NAMESIG,	/* "-Name": a sign-off, dropped at the end only */
	RS_QUOTE,	/* "> ..." quoted mail */
	RS_QMARK,	/* a quoted reply header: a quoted message starts */
	RS_MARK,	/* reply header, forward or Outlook header block */
	RS_DELIM,	/* a rule or "-- ": what follows is not the reply */
	RS_SIG,		/* "Sent from my iPhone" and kin */
};

struct rs_line {
	char		*s;	/* borrowed from struct rs.buf */
	enum rs_kind	 kind;
	int		 keep;
	int		 weak;	/* a header with no address and no time */
};

struct rs {
	char		*buf;	/* owned: the text, lines cut in place */
	struct rs_line	*l;	/* owned */
	size_t		 n;
};

/* A table entry: an extended regex (case ignored) and its conditions. */
struct rs_pattern {
	const char	*re;
	int		 flags;	/* RS_NEED_* */
	unsigned	 max_words;	/* 0: any */
};

#define RS_NEED_DATE	0x1	/* a year, a time or an address in the line */
#define RS_LOOSE	0x2	/* no fixed first word: may take the line above */

/*
 * Reply headers that open quoted mail: "On <date>, <who> wrote:" in the
 * languages the test corpus has, forwarded and original-message lines.
 * Those that could be a sentence someone writes need a date or address.
 */
static const struct rs_pattern rs_marks[] = {
	{ "^on .*wrote ?:$", RS_NEED_DATE, 0 },
	{ "^-{2,} ?on .*wrote ?-{2,}$", RS_NEED_DATE, 0 },
	{ "^at .*wrote ?:$", RS_NEED_DATE, 0 },
	{ "^[^<]*<[^>]*@[^>]*> ?wrote ?:$", RS_LOOSE, 0 },
	{ "^am .* schrieb .*:$", RS_NEED_DATE, 0 },
	{ "^.* schrieb am .* uhr ?:$", RS_NEED_DATE | RS_LOOSE, 0 },
	{ "^[^<]*<[^>]*@[^>]*> ?schrieb ?:$", RS_LOOSE, 0 },
	{ "^le .* a (é|e)crit ?:$", RS_NEED_DATE, 0 },
	{ "^el .* escribi(ó|o) ?:$", RS_NEED_DATE, 0 },
	{ "^.* escreveu ?:$", RS_NEED_DATE | RS_LOOSE, 0 },
	{ "^il .* ha scritto ?:$", RS_NEED_DATE, 0 },
	{ "^op .* (schreef|heeft) .*:$", RS_NEED_DATE, 0 },
	{ "^den .* skrev .*:$", RS_NEED_DATE, 0 },
	{ "^.* skrev ?:$", RS_NEED_DATE | RS_LOOSE, 0 },
	{ "^.* napisał(\\(a\\)|a)? ?:$", RS_NEED_DATE | RS_LOOSE, 0 },
	{ "^.* написал(\\(а\\)|а)? ?:$", RS_NEED_DATE | RS_LOOSE, 0 },
	{ "^.* (пише|написав|написала) ?:$", RS_NEED_DATE | RS_LOOSE, 0 },
	{ "^.*(写道|寫道) ?(:|：)$", RS_NEED_DATE | RS_LOOSE, 0 },
	/* Gmail in some locales: a date, then who, no verb. */
	{ "^[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2} [0-9]{1,2}:[0-9]{2} "
	  "gmt[-+][0-9]{1,2}(:[0-9]{2})? .+$", 0, 0 },
	{ "^[0-9]{4}/[0-9]{1,2}/[0-9]{1,2} .*<[^>]*@[^>]*> ?:?$", 0, 0 },
	{ "^[* ]*-{2,} ?(original message|ursprüngliche nachricht|"
	  "mensaje original|message d'origine|messaggio originale|"
	  "oorspronkelijk bericht|originalmeddelande|mensagem original|"
	  "wiadomość oryginalna|исходное сообщение|opprinnelig melding|"
	  "forwarded message|weitergeleitete nachricht|message transféré|"
	  "mensaje reenviado|doorgestuurd bericht) ?-{2,}[* ]*$", 0, 0 },
	{ "^(begin forwarded message|anfang der weitergeleiteten nachricht|"
	  "début du message réexpédié|inizio messaggio inoltrato) ?:$", 0, 0 },
};

/*
 * Lines mail programs add under what someone wrote. Loose shapes
 * ("Sent from ...") need the name of a device or a mail program, so
 * "Sent from my desk, is much easier" and "Sent from a magnificent
 * torch of pixels" stay.
 */
#define RS_DEVICE "(mail|mailbox|outlook|yahoo|gmail|aol|windows|android|" \
	"ios|ipad|iphone|ipod|blackberry|samsung|galaxy|mobile|phone|" \
	"tablet|device|airmail|spark|protonmail)"

#define RS_SIG_WORDS	14	/* the most words any of them may have */

static const struct rs_pattern rs_sigs[] = {
	{ "^sent from my [^ ,.]+( [^ ,.]+){0,5}[.!]?( ?<[^>]*>)?$", 0, 10 },
	{ "^sent from my [^,.]+[,.] +(please )?excuse .*$", 0, 12 },
	{ "^sent (from|via|with) .*" RS_DEVICE, 0, 8 },
	{ "^([^ ]+ )?from (my )?[^ ]*(mobile|phone|ipad|android|blackberry|"
	  "tablet)[^ ]*( [^ ]+)?$", 0, 5 },
	{ "^<<? ?sent (by|from|via) [^>]*>>?$", 0, 6 },
	{ "^\\((sent|envoyé|gesendet) [^)]*\\)$", 0, 6 },
	{ "^get \\[?outlook for ", 0, 6 },
	{ "^envoy(é|e) (depuis|de) (mon|ma) ", 0, 8 },
	{ "von meinem .*gesendet\\.?$", 0, 14 },
	{ "^gesendet (von|mit) (meinem|meiner) ", 0, 8 },
	{ "^(verzonden|verstuurd) (met|vanaf|van) ", 0, 8 },
	{ "^sendt fra min ", 0, 8 },
	{ "^skickat från min ", 0, 8 },
	{ "^enviado (desde|do|de) (mi|meu|o meu|o) ", 0, 8 },
	{ "^inviato da(l)? (mio|mia|iphone|ipad) ", 0, 8 },
	{ "^wysłane z ", 0, 8 },
	{ "^отправлено (с|из) ", 0, 8 },
	{ "^(從|从|寄自)我的.*(傳送|发送)?$", 0, 4 },
};

/*
 * Field names of a mail client's header block, "From:" first; written
 * as clients write them (ASCII case is ignored, other case is not).
 */
static const char *const rs_from_fields[] = {
	"From", "Von", "De", "Da", "Från", "Van", "Od", "От", "Fra",
	"Lähettäjä", "Expéditeur", "Feladó",
};
static const char *const rs_fields[] = {
	"Sent", "Date", "To", "Cc", "Bcc", "Subject", "Reply-To",
	"Gesendet", "An", "Betreff", "Datum", "Kopie", "Enviado", "Para",
	"Asunto", "Fecha", "Risposta", "Data", "A", "Oggetto", "Inviato",
	"Skickat", "Till", "Ämne", "Kopia", "Envoyé", "À", "Objet",
	"Verzonden", "Aan", "Onderwerp", "Wysłano", "Do", "Temat",
	"Отправлено", "Кому", "Тема", "Дата", "Sendt", "Til", "Emne",
	"Dato", "Lähetetty", "Vastaanottaja", "Aihe", "Assunto", "Enviada",
};

#define RS_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static regex_t	rs_mark_re[RS_NELEM(rs_marks)];
static regex_t	rs_sig_re[RS_NELEM(rs_sigs)];

/* The tables are compiled once; a pattern that does not compile is a bug. */
static void
rs_compile(const struct rs_pattern *p, regex_t *re, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (regcomp(&re[i], p[i].re, REG_EXTENDED | REG_ICASE |
		    REG_NOSUB) != 0)
			abort();
}

static void
rs_init(void)
{
	static int done;

	if (done)
		return;
	rs_compile(rs_marks, rs_mark_re, RS_NELEM(rs_marks));
	rs_compile(rs_sigs, rs_sig_re, RS_NELEM(rs_sigs));
	done = 1;
}

static int
rs_blank(int c)
{
	return c == ' ' || c == '\t';
}

static unsigned
rs_words(const char *s)
{
	unsigned n = 0;
	int in = 0;

	for (; *s != '\0'; s++) {
		if (rs_blank(*s))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/*
 * Whether s has one of words, ASCII case ignored. Plain search: the
 * strings are short, and libc's strcasestr costs more to set up.
 */
static int
rs_has_word(const char *s, const char *const *words, size_t n)
{
	const char *p;
	size_t i, l;
	int c;

	for (i = 0; i < n; i++) {
		c = words[i][0] | 0x20;
		l = 0;
		for (p = s; *p != '\0'; p++) {
			if ((*p | 0x20) != c)
				continue;
			if (l == 0)
				l = strlen(words[i]);
			if (strncasecmp(p, words[i], l) == 0)
				return 1;
		}
	}
	return 0;
}

/* A year, a time of day or an address: what a real reply header has. */
static int
rs_has_date(const char *s)
{
	size_t i, d = 0;

	if (strchr(s, '@') != NULL)
		return 1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++d == 4)
				return 1;
			continue;
		}
		if ((s[i] == ':' || s[i] == '.') && d >= 1 &&
		    s[i + 1] >= '0' && s[i + 1] <= '9' &&
		    s[i + 2] >= '0' && s[i + 2] <= '9')
			return 1;
		d = 0;
	}
	return 0;
}

/* The index of the first pattern s matches, or -1. */
static int
rs_match(const struct rs_pattern *p, regex_t *re, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i].max_words != 0 && rs_words(s) > p[i].max_words)
			continue;
		if ((p[i].flags & RS_NEED_DATE) && !rs_has_date(s))
			continue;
		if (regexec(&re[i], s, 0, NULL, 0) == 0)
			return (int)i;
	}
	return -1;
}

/* Past the quote markers: "> ", ">>", "C> " (supercite initials). */
static const char *
rs_unquote(const char *s)
{
	const char *p;

	for (;;) {
		while (rs_blank(*s))
			s++;
		for (p = s; p - s < 3 && ((*p >= 'A' && *p <= 'Z') ||
		    (*p >= 'a' && *p <= 'z')); p++)
			;
		if (*p != '>')
			return s;
		s = p + 1;
	}
}

static int
rs_is_quote(const char *s)
{
	const char *p = s;

	while (rs_blank(*p))
		p++;
	/* "| quoted" as some webmails write it, but not a table row. */
	if (*p == '|')
		return strchr(p + 1, '|') == NULL;
	return rs_unquote(s) != p;
}

static int
rs_is_empty(const char *s)
{
	while (rs_blank(*s))
		s++;
	return *s == '\0';
}

/* Only rule characters: ----, ____, ====, ***, ~~~, "-- ", "ᐧ", "—". */
static int
rs_is_delim(const char *s)
{
	static const char *const rules[] = {
		"-", "_", "=", "+", "~", "#", "*", "\xe1\x90\xa7",
		"\xe2\x80\x94", "\xe2\x80\x93",
	};
	size_t i, n, seen = 0;

	while (*s != '\0') {
		if (rs_blank(*s)) {
			s++;
			continue;
		}
		for (i = 0; i < RS_NELEM(rules); i++) {
			n = strlen(rules[i]);
			if (strncmp(s, rules[i], n) == 0)
				break;
		}
		if (i == RS_NELEM(rules))
			return 0;
		s += n;
		seen++;
	}
	return seen > 0;
}

/* "-Abhishek Kona": a hyphen, a name of at most three words. */
static int
rs_is_namesig(const char *s)
{
	return s[0] == '-' && ((s[1] >= 'A' && s[1] <= 'Z') ||
	    (s[1] >= 'a' && s[1] <= 'z')) && rs_words(s) <= 3;
}

static int
rs_is_fence(const char *s)
{
	size_t i;

	for (i = 0; i < 3 && s[i] == ' '; i++)
		;
	return strncmp(s + i, "```", 3) == 0;
}

/* "From:", "*Sent:*", "Ämne :" ...: one of names, then a colon. */
static int
rs_is_field(const char *s, const char *const *names, size_t n)
{
	size_t i, len;
	const char *p;

	while (rs_blank(*s) || *s == '*')
		s++;
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (strncasecmp(s, names[i], len) != 0)
			continue;
		p = s + len;
		if (*p == '*')
			p++;
		while (rs_blank(*p) || strncmp(p, "\xc2\xa0", 2) == 0)
			p += *p == ' ' || *p == '\t' ? 1 : 2;
		if (*p == ':')
			return 1;
	}
	return 0;
}

static const char *
rs_text(const struct rs *r, size_t i, int quoted)
{
	return quoted ? rs_unquote(r->l[i].s) : r->l[i].s;
}

/*
 * An Outlook-style block at line i: "From:" and at least two more
 * fields before a blank line; a wrapped field value may sit between.
 * Returns the lines it spans, or 0.
 */
static size_t
rs_block_at(const struct rs *r, size_t i, int quoted)
{
	size_t j, last = i, fields = 0;

	if (!rs_is_field(rs_text(r, i, quoted), rs_from_fields,
	    RS_NELEM(rs_from_fields)))
		return 0;
	for (j = i + 1; j < r->n && j < i + RS_MAX_BLOCK; j++) {
		if (rs_is_empty(rs_text(r, j, quoted)))
			break;
		if (rs_is_field(rs_text(r, j, quoted), rs_fields,
		    RS_NELEM(rs_fields))) {
			last = j;
			fields++;
		}
	}
	return fields >= 2 ? last - i + 1 : 0;
}

/* Appends s to a header candidate: blanks and no-break spaces as one. */
static int
rs_cand_add(char *c, size_t *len, const char *s)
{
	if (*len > 0 && c[*len - 1] != ' ')
		c[(*len)++] = ' ';
	for (; *s != '\0'; s++) {
		if (*len + 2 >= RS_MAX_HEAD)
			return -1;
		if (strncmp(s, "\xc2\xa0", 2) == 0 || rs_blank(*s)) {
			if (*s != ' ' && *s != '\t')
				s++;
			if (*len > 0 && c[*len - 1] != ' ')
				c[(*len)++] = ' ';
		} else
			c[(*len)++] = *s;
	}
	c[*len] = '\0';
	return 0;
}

/* A line that ends a sentence does not continue into a header. */
static int
rs_ends_sentence(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && rs_blank(s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	if (s[n - 1] == '!' || s[n - 1] == '?')
		return 1;
	return s[n - 1] == '.' && n >= 2 && !(s[n - 2] >= '0' &&
	    s[n - 2] <= '9');
}

/* After a blank line a header goes on only with its cut address. */
static int
rs_goes_on(const char *s)
{
	while (rs_blank(*s))
		s++;
	return *s == '<';
}

enum { RS_CAND_OK, RS_CAND_MORE, RS_CAND_NO };

/*
 * The header candidate c of lines i..i+k-1, joined by one space, or
 * RS_CAND_MORE if it ends in a blank line that may be crossed, or
 * RS_CAND_NO if these lines cannot be one header.
 */
static int
rs_cand(const struct rs *r, size_t i, size_t k, int quoted, char *c,
    size_t *len)
{
	const char *s, *prev = NULL;
	size_t j;
	int blanks = 0;

	*len = 0;
	c[0] = '\0';
	for (j = i; j < i + k; j++) {
		s = r->l[j].s;
		if (j > i && quoted && !rs_is_quote(s))
			return RS_CAND_NO;
		/* Unquoted, only a stray "> wrote:" or ">:" may go on. */
		if (j > i && !quoted && rs_is_quote(s) &&
		    rs_words(rs_unquote(s)) > 2)
			return RS_CAND_NO;
		s = (quoted || j > i) ? rs_unquote(s) : s;
		if (rs_is_empty(s)) {
			if (j == i || ++blanks > 1 || j + 1 >= r->n ||
			    !rs_goes_on(r->l[j + 1].s))
				return RS_CAND_NO;
			if (j + 1 == i + k)
				return RS_CAND_MORE;
			continue;
		}
		if (prev != NULL && rs_ends_sentence(prev))
			return RS_CAND_NO;
		if (rs_cand_add(c, len, s) == -1)
			return RS_CAND_NO;
		prev = s;
	}
	return RS_CAND_OK;
}

/*
 * A word every header pattern has one of: a cheap test that spares the
 * regular expressions nearly every line (keep it in step with rs_marks).
 */
static const char *const rs_mark_words[] = {
	"wrote", "schrieb", "crit", "escribi", "escreveu", "scritto",
	"schreef", "heeft", "skrev", "napisa", "написал", "пише", "написав",
	"写道", "寫道", "gmt", "@", "original", "message", "nachricht",
	"bericht", "meddelande", "mensagem", "mensaje", "wiadomo", "сообщ",
	"melding", "weitergeleitet", "transf", "inoltrato",
};

/* The flags of the header pattern c (len bytes) matches, or -1. */
static int
rs_cand_match(const char *c, size_t len)
{
	char last = len > 0 ? c[len - 1] : '\0';
	int i;

	/* Cheap tests first: every header pattern ends or starts so. */
	if (last != ':' && last != '-' && last != '>' && last != '*' &&
	    !(c[0] >= '0' && c[0] <= '9') &&
	    !(len >= 3 && strncmp(c + len - 3, "\xef\xbc\x9a", 3) == 0))
		return -1;
	if (!rs_has_word(c, rs_mark_words, RS_NELEM(rs_mark_words)))
		return -1;
	i = rs_match(rs_marks, rs_mark_re, RS_NELEM(rs_marks), c);
	return i < 0 ? -1 : rs_marks[i].flags;
}

/* 1 if a "<" is left open, -1 if a ">" closes none, else 0. */
static int
rs_brackets(const char *c)
{
	int depth = 0;

	for (; *c != '\0'; c++) {
		depth += *c == '<' ? 1 : *c == '>' ? -1 : 0;
		if (depth < 0)
			return -1;
	}
	return depth > 0;
}

/*
 * Whether the loose header of lines i..i+k-1 would be one without line
 * i: then line i is the writer's. Not so when line i leaves an address
 * open ("discourse <" above "info@discourse.org> escreveu:").
 */
static int
rs_loose_below(const struct rs *r, size_t i, size_t k, int quoted)
{
	char c[RS_MAX_HEAD + 1];
	size_t len;

	if (rs_cand(r, i + 1, k - 1, quoted, c, &len) != RS_CAND_OK ||
	    rs_brackets(c) != 0)
		return 0;
	return rs_cand_match(c, len) != -1;
}

/*
 * A reply header starting at line i, joined over the lines it wraps
 * on (an address may be cut at "<", a verb put on a line of its own).
 * A loose pattern that would also match without line i does not take
 * it: "Thanks," above "Jo <jo@x.org> wrote:" is the writer's.
 * Returns the lines the header spans (0 if none), its pattern's
 * flags in *flags.
 */
static size_t
rs_mark_at(const struct rs *r, size_t i, int quoted, int *flags)
{
	char c[RS_MAX_HEAD + 1];
	size_t k, len, best = 0;
	int f, st;

	*flags = 0;
	for (k = 1; k <= RS_MAX_JOIN && i + k <= r->n; k++) {
		if ((st = rs_cand(r, i, k, quoted, c, &len)) == RS_CAND_NO)
			break;
		if (st == RS_CAND_MORE)
			continue;
		if ((f = rs_cand_match(c, len)) == -1) {
			if (best > 0)
				break;
			continue;
		}
		if ((f & RS_LOOSE) && k > 1 && rs_loose_below(r, i, k, quoted))
			return 0;
		best = k;
		*flags = f;
		if (rs_brackets(c) <= 0)
			break;
	}
	return best;
}

/* Every signature pattern has one of these (keep in step with rs_sigs). */
static const char *const rs_sig_words[] = {
	"sent", "from", "envoy", "gesendet", "verzonden", "verstuurd",
	"sendt", "skickat", "enviado", "inviato", "wysłane", "отправлено",
	"我的", "outlook",
};

static int
rs_is_sig(const char *s)
{
	while (rs_blank(*s))
		s++;
	if (rs_words(s) > RS_SIG_WORDS)
		return 0;
	if (!rs_has_word(s, rs_sig_words, RS_NELEM(rs_sig_words)))
		return 0;
	return rs_match(rs_sigs, rs_sig_re, RS_NELEM(rs_sigs), s) >= 0;
}

/*
 * A mail program's reply header has the sender's address or the time
 * of day; "On 3 May 2023, Dr Jones wrote:" in someone's prose has
 * neither, and unless quoted mail follows it, it is left as text.
 */
static int
rs_strong(const struct rs *r, size_t i, size_t k)
{
	const char *s;
	size_t j;

	for (j = i; j < i + k; j++)
		for (s = r->l[j].s; *s != '\0'; s++)
			if (*s == '@' || ((*s == ':' || *s == '.') &&
			    s > r->l[j].s && s[-1] >= '0' && s[-1] <= '9' &&
			    s[1] >= '0' && s[1] <= '5' && s[2] >= '0' &&
			    s[2] <= '9'))
				return 1;
	return 0;
}

/* A quoted line that opens a quoted message ("> On ... wrote:"). */
static int
rs_is_qmark(const struct rs *r, size_t i)
{
	int f;

	return rs_mark_at(r, i, 1, &f) > 0 || rs_block_at(r, i, 1) > 0;
}

/* Gives one line its kind; returns how many lines it took (a header). */
static size_t
rs_kind(struct rs *r, size_t i)
{
	const char *s = r->l[i].s;
	size_t k, j;
	int f;

	if (rs_is_empty(s))
		r->l[i].kind = RS_EMPTY;
	else if (rs_is_quote(s))
		r->l[i].kind = rs_is_qmark(r, i) ? RS_QMARK : RS_QUOTE;
	else if (rs_is_delim(s))
		r->l[i].kind = RS_DELIM;
	else if ((k = rs_mark_at(r, i, 0, &f)) > 0) {
		for (j = i; j < i + k; j++)
			r->l[j].kind = RS_MARK;
		r->l[i].weak = (f & RS_NEED_DATE) && !rs_strong(r, i, k);
		return k;
	} else if ((k = rs_block_at(r, i, 0)) > 0) {
		for (j = i; j < i + k; j++)
			r->l[j].kind = RS_MARK;
		return k;
	} else if (rs_is_sig(s))
		r->l[i].kind = RS_SIG;
	else if (rs_is_namesig(s))
		r->l[i].kind = RS_NAMESIG;
	else
		r->l[i].kind = RS_TEXT;
	return 1;
}

/* Lines inside a ``` code block are text whatever they look like. */
static void
rs_classify(struct rs *r)
{
	size_t i = 0;
	int code = 0;

	while (i < r->n) {
		if (rs_is_fence(r->l[i].s)) {
			code = !code;
			r->l[i++].kind = RS_TEXT;
		} else if (code)
			r->l[i++].kind = RS_TEXT;
		else
			i += rs_kind(r, i);
	}
}

static void
rs_drop(struct rs *r, size_t from, size_t to)
{
	for (; from < to && from < r->n; from++)
		r->l[from].keep = 0;
}

static int
rs_is_words(enum rs_kind k)
{
	return k == RS_TEXT || k == RS_NAMESIG;
}

static int
rs_is_quoted(enum rs_kind k)
{
	return k == RS_QUOTE || k == RS_QMARK;
}

/* The first kept line from i on that is not blank; r->n if none. */
static size_t
rs_next(const struct rs *r, size_t i)
{
	while (i < r->n && (!r->l[i].keep || r->l[i].kind == RS_EMPTY))
		i++;
	return i;
}

static int
rs_words_before(const struct rs *r, size_t i)
{
	while (i-- > 0)
		if (r->l[i].keep && rs_is_words(r->l[i].kind))
			return 1;
	return 0;
}

/* "Sent from my iPhone" lines go wherever they are. */
static void
rs_rule_sigs(struct rs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->l[i].kind == RS_SIG)
			r->l[i].keep = 0;
}

/*
 * After the first rule under some words nothing is the reply (a
 * signature, a list footer, Outlook's quoted mail); a rule above every
 * word is only itself dropped.
 */
static void
rs_rule_delims(struct rs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->l[i].kind != RS_DELIM)
			continue;
		if (rs_words_before(r, i)) {
			rs_drop(r, i, r->n);
			return;
		}
		r->l[i].keep = 0;
	}
}

/* A message that opens with a quoted message ("> On ... wrote:"). */
static void
rs_rule_quoted_start(struct rs *r)
{
	size_t i = rs_next(r, 0);

	if (i >= r->n || r->l[i].kind != RS_QMARK)
		return;
	while (i < r->n && (rs_is_quoted(r->l[i].kind) ||
	    r->l[i].kind == RS_EMPTY))
		r->l[i++].keep = 0;
}

/* Whether some quoted line is kept from i on: replies are interleaved. */
static int
rs_quotes_from(const struct rs *r, size_t i)
{
	for (; i < r->n; i++)
		if (r->l[i].keep && rs_is_quoted(r->l[i].kind))
			return 1;
	return 0;
}

/*
 * A reply header [a, b). One that may be prose (weak) and has no
 * quote after it is text after all. Under some words, with unquoted mail after
 * it (Outlook, Android), it and all after it go; with quoted mail
 * after it only the header goes (the quote is dealt with later). At
 * the top, followed by one quote and then words only, the writer
 * answered below the quote: header and quote go. Returns 1 when the
 * rest of the message was dropped.
 */
static int
rs_rule_mark(struct rs *r, size_t a, size_t b)
{
	size_t next = rs_next(r, b), e;

	if (r->l[a].weak && (next >= r->n || !rs_is_quoted(r->l[next].kind))) {
		for (e = a; e < b; e++)
			r->l[e].kind = RS_TEXT;
		return 0;
	}
	if (rs_words_before(r, a)) {
		if (next < r->n && rs_is_quoted(r->l[next].kind)) {
			rs_drop(r, a, b);
			return 0;
		}
		rs_drop(r, a, r->n);
		return 1;
	}
	rs_drop(r, a, b);
	if (next >= r->n || !rs_is_quoted(r->l[next].kind))
		return 0;
	for (e = next; e < r->n && (rs_is_quoted(r->l[e].kind) ||
	    r->l[e].kind == RS_EMPTY); e++)
		;
	if (!rs_quotes_from(r, e))
		rs_drop(r, next, e);
	return 0;
}

static void
rs_rule_marks(struct rs *r)
{
	size_t a = 0, b;

	while (a < r->n) {
		if (!r->l[a].keep || r->l[a].kind != RS_MARK) {
			a++;
			continue;
		}
		for (b = a; b < r->n && r->l[b].kind == RS_MARK; b++)
			;
		if (rs_rule_mark(r, a, b))
			return;
		a = b;
	}
}

/* Below the last line of words only quotes and sign-offs are left. */
static void
rs_rule_trailing(struct rs *r)
{
	size_t i = r->n;

	while (i-- > 0)
		if (r->l[i].keep && r->l[i].kind == RS_TEXT) {
			rs_drop(r, i + 1, r->n);
			return;
		}
}

/* The text, its line ends made \n, cut in lines (bounded first). */
static void
rs_split(struct rs *r, const char *text)
{
	size_t len = strlen(text), i, o = 0, cap;
	char *p;

	if (len > REPLY_STRIP_MAX) {
		len = REPLY_STRIP_MAX;
		while (len > 0 && text[len - 1] != '\n' &&
		    text[len - 1] != '\r')
			len--;
		/* One endless line: cut it, on a character boundary. */
		if (len == 0)
			len = REPLY_STRIP_MAX;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
	}
	r->buf = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		r->buf[o++] = text[i] == '\r' ? '\n' : text[i];
	}
	r->buf[o] = '\0';
	cap = 16;
	r->l = xcalloc(cap, sizeof(*r->l));
	r->n = 0;
	for (p = r->buf; p != NULL; ) {
		if (r->n == cap) {
			r->l = xrealloc(r->l, 2 * cap * sizeof(*r->l));
			memset(r->l + cap, 0, cap * sizeof(*r->l));
			cap *= 2;
		}
		r->l[r->n].keep = 1;
		r->l[r->n++].s = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
}

static char *
rs_join(const struct rs *r)
{
	size_t i, first = 0, last = r->n, len = 0;
	char *out;

	while (first < r->n && (!r->l[first].keep ||
	    rs_is_empty(r->l[first].s)))
		first++;
	while (last > first && (!r->l[last - 1].keep ||
	    rs_is_empty(r->l[last - 1].s)))
		last--;
	for (i = first; i < last; i++)
		if (r->l[i].keep)
			len += strlen(r->l[i].s) + 1;
	out = xmalloc(len + 1);
	len = 0;
	for (i = first; i < last; i++) {
		if (!r->l[i].keep)
			continue;
		if (len > 0 || i > first)
			out[len++] = '\n';
		memcpy(out + len, r->l[i].s, strlen(r->l[i].s));
		len += strlen(r->l[i].s);
	}
	out[len] = '\0';
	return out;
}

char *
reply_strip(const char *text)
{
	struct rs r;
	char *out;

	rs_init();
	rs_split(&r, text != NULL ? text : "");
	rs_classify(&r);
	rs_rule_sigs(&r);
	rs_rule_delims(&r);
	rs_rule_quoted_start(&r);
	rs_rule_marks(&r);
	rs_rule_trailing(&r);
	out = rs_join(&r);
	free(r.buf);
	free(r.l);
	return out;
}
