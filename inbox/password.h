/* password: hashing staff passwords with scrypt (OpenSSL). */
#ifndef HEARD_PASSWORD_H
#define HEARD_PASSWORD_H

#include <stddef.h>

/* Longest hash string, with the NUL. */
#define PASSWORD_HASH_MAX	160
/* Shortest and longest password accepted, in bytes. */
#define PASSWORD_MIN_LEN	10
#define PASSWORD_MAX_LEN	1024

/*
 * "$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>" with a fresh 16-byte
 * salt from RAND_bytes. -1 on failure.
 */
int	password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* 1 matches, 0 not (constant-time compare), -1 malformed hash. */
int	password_verify(const char *password, const char *hash);
/* A new password is long enough and not all one character; -1, reason. */
int	password_acceptable(const char *password, const char **why);

#endif
