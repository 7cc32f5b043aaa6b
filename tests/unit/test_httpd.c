/* test_httpd: the [http] listen values the server accepts and refuses. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static void
test_listen_good(void **state)
{
	static const struct {
		const char	*v;
		int		 family;
		const char	*addr;
		int		 port;
	} good[] = {
		{ "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080 },
		{ "0.0.0.0:1", AF_INET, "0.0.0.0", 1 },
		{ "10.1.2.3:65535", AF_INET, "10.1.2.3", 65535 },
		{ "[::1]:8080", AF_INET6, "::1", 8080 },
		{ "[::]:443", AF_INET6, "::", 443 },
		{ "[fe80::1:2]:9000", AF_INET6, "fe80::1:2", 9000 },
	};
	struct sockaddr_storage ss;
	unsigned int len;
	char why[160], addr[INET6_ADDRSTRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(config_listen_addr(good[i].v, &ss, &len, why,
		    sizeof(why)), 0);
		assert_int_equal(ss.ss_family, good[i].family);
		if (good[i].family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			assert_int_equal(len, sizeof(*in));
			inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
			assert_int_equal(ntohs(in->sin_port), good[i].port);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			assert_int_equal(len, sizeof(*in6));
			inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
			assert_int_equal(ntohs(in6->sin6_port), good[i].port);
		}
		assert_string_equal(addr, good[i].addr);
	}
}

static void
test_listen_bad(void **state)
{
	static const char *const bad[] = {
		"", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:80x", "127.0.0.1:-1",
		"localhost:8080", "example.org:80", "::1:8080", "[::1]8080",
		"[::1]", "[127.0.0.1]:80", "1.2.3.4.5:80", "256.1.1.1:80",
		"127.0.0.1:8080 ", "[]:80",
		"0000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000:80",
	};
	struct sockaddr_storage ss;
	unsigned int len;
	char why[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (config_listen_addr(bad[i], &ss, &len, why, sizeof(why)) !=
		    -1)
			fail_msg("'%s' was taken", bad[i]);
		assert_non_null(strstr(why, "'"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_good),
		cmocka_unit_test(test_listen_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
