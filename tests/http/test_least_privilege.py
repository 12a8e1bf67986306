"""civcasd connects as a database role that is not a superuser and owns only
its own database's objects (deploy/common.sh makes it; deploy/test.sh
names it in CIVCAS_TEST_APP_ROLE)."""

import unittest

from harness import ServerTestCase, admin_connect, app_role


class DatabaseRoleTest(ServerTestCase):

    def admin_rows(self, sql, *params):
        conn = admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def test_role_is_not_a_superuser(self):
        role = app_role()
        self.assertTrue(role, 'CIVCAS_TEST_APP_ROLE is not set: civcasd would '
                              'run as the superuser')
        rows = self.admin_rows(
            'SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, '
            'rolbypassrls FROM pg_roles WHERE rolname = %s', role)
        self.assertEqual(rows, [(False, False, False, False, False)])

    def test_serve_connects_as_that_role(self):
        # A request that needs the database, so serve holds a connection.
        self.assertStatus(self.srv.request('GET', '/v1/taxonomy', key='analyst'), 200)
        rows = self.admin_rows(
            "SELECT DISTINCT a.usename, r.rolsuper FROM pg_stat_activity a "
            "JOIN pg_roles r ON r.rolname = a.usename "
            "WHERE a.datname = %s AND a.backend_type = 'client backend' "
            "AND a.application_name = 'civcasd'", self.srv.dbname)
        self.assertEqual(rows, [(app_role(), False)])

    def test_it_owns_only_its_database(self):
        role = app_role()
        owner = self.admin_rows(
            'SELECT r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba '
            'WHERE d.datname = %s', self.srv.dbname)
        self.assertEqual(owner, [(role,)])
        other_owners = self.srv.rows(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'")
        self.assertEqual(other_owners, [(role,)])


if __name__ == '__main__':
    unittest.main()
