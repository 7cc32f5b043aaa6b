/* test_password: scrypt hashes made, verified, refused when malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"

#define PREFIX	"$scrypt$ln=15,r=8,p=1$"

/*
 * RFC 7914 section 12, third vector: scrypt("pleaseletmein",
 * "SodiumChloride", N = 16384, r = 8, p = 1, 64 bytes), written as a
 * hash string: a known answer with other parameters than ours, so it
 * shows that verify takes them from the string.
 */
#define RFC7914 "$scrypt$ln=14,r=8,p=1$U29kaXVtQ2hsb3JpZGU$" \
	"cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6" \
	"F3A1lHkDfzwF7RVdYhw"

/* A well-formed salt and key (16 and 32 bytes) for the cases below. */
#define SALT	"Gy53Hi5Y9zGqRVeMvrXvFQ"
#define KEY	"lLGgBElrDRkv6IypADkFErLjGKg4KEyILyMlHzjQkw0"

static void
test_round_trip(void **state)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("correct horse battery", h1), 0);
	assert_int_equal(strncmp(h1, PREFIX, strlen(PREFIX)), 0);
	/* 22 characters of salt, $, 43 of key: unpadded base64. */
	assert_int_equal(strlen(h1), strlen(PREFIX) + 22 + 1 + 43);
	assert_null(strchr(h1 + strlen(PREFIX), '='));
	assert_int_equal(password_verify("correct horse battery", h1), 1);
	assert_int_equal(password_hash("correct horse battery", h2), 0);
	assert_string_not_equal(h1, h2);	/* a fresh salt each time */
	assert_int_equal(password_verify("correct horse battery", h2), 1);
}

static void
test_wrong(void **state)
{
	char h[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("correct horse battery", h), 0);
	assert_int_equal(password_verify("correct horse batterY", h), 0);
	assert_int_equal(password_verify("correct horse battery ", h), 0);
	assert_int_equal(password_verify("", h), 0);
	/* A key with one bit changed no longer matches. */
	h[strlen(h) - 2] = h[strlen(h) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(password_verify("correct horse battery", h), 0);
}

static void
test_known_answer(void **state)
{
	(void)state;
	assert_int_equal(password_verify("pleaseletmein", RFC7914), 1);
	assert_int_equal(password_verify("pleaseletmeim", RFC7914), 0);
	/* The same key under other parameters is another hash. */
	assert_int_equal(password_verify("pleaseletmein",
	    "$scrypt$ln=14,r=8,p=2$U29kaXVtQ2hsb3JpZGU$cCO9yzr9c0hGHAbNgf046"
	    "/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6F3A1lHkDfzwF7RVdY"
	    "hw"), 0);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"$scrypt$",
		"scrypt$ln=15,r=8,p=1$" SALT "$" KEY,
		"$argon2id$v=19$m=65536,t=3,p=4$" SALT "$" KEY,
		"$scrypt$ln=15,r=8,p=1$" SALT,
		"$scrypt$ln=15,r=8,p=1$" SALT "$",
		"$scrypt$ln=15,r=8,p=1$$" KEY,
		"$scrypt$ln=15,r=8$" SALT "$" KEY,
		"$scrypt$r=8,ln=15,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=8,p=1,x=2$" SALT "$" KEY,
		"$scrypt$ln=015,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=-15,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=99999999999999999999,r=8,p=1$" SALT "$" KEY,
		/* Bounds: too cheap, too dear, absurd memory. */
		"$scrypt$ln=9,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=21,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=0,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=33,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=8,p=0$" SALT "$" KEY,
		"$scrypt$ln=15,r=8,p=17$" SALT "$" KEY,
		"$scrypt$ln=20,r=32,p=1$" SALT "$" KEY,	/* 4 GiB */
		/* Not base64, or too short to be a salt or a key. */
		"$scrypt$ln=15,r=8,p=1$Gy53Hi5Y9z!qRVeMvrXvFQ$" KEY,
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY "=",
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY "$",
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY " ",
		"$scrypt$ln=15,r=8,p=1$AAAAAA$" KEY,
		"$scrypt$ln=15,r=8,p=1$" SALT "$AAAAAA",
		"$scrypt$ln=15,r=8,p=1$" SALT "$AAAAA",
		/* A key longer than 64 bytes. */
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY KEY KEY,
	};
	char big[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (password_verify("correct horse battery", bad[i]) != -1)
			fail_msg("accepted malformed hash %zu: %s", i, bad[i]);
	}
	assert_int_equal(password_verify("x", NULL), -1);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, PREFIX, strlen(PREFIX));
	big[100] = '$';
	assert_int_equal(password_verify("x", big), -1);
	/* The well-formed neighbour of the cases above parses. */
	assert_int_equal(password_verify("correct horse battery",
	    PREFIX SALT "$" KEY), 0);
}

static void
test_acceptable(void **state)
{
	static const struct {
		const char	*pw;
		int		 ok;
	} cases[] = {
		{ "", -1 },
		{ "short", -1 },
		{ "123456789", -1 },		/* 9 */
		{ "1234567890", 0 },		/* 10 */
		{ "aaaaaaaaaaaaaaaa", -1 },
		{ "aaaaaaaaaaaaaaab", 0 },
		{ "correct horse battery staple", 0 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 0 },
	};
	char long_pw[1100];
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		assert_int_equal(password_acceptable(cases[i].pw, &why),
		    cases[i].ok);
		if (cases[i].ok == -1)
			assert_non_null(why);
	}
	assert_int_equal(password_acceptable(NULL, &why), -1);
	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[0] = 'y';
	long_pw[sizeof(long_pw) - 1] = '\0';
	assert_int_equal(password_acceptable(long_pw, &why), -1);
	assert_non_null(strstr(why, "longer"));
	long_pw[1024] = '\0';
	assert_int_equal(password_acceptable(long_pw, &why), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_acceptable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
