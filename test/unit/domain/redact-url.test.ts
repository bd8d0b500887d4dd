import { expect, test } from "bun:test";
import { redactUrl } from "../../../src/domain";

test.each([
  ["postgres://leo:s3cret@db:5432/leoflow", "postgres://leo:***@db:5432/leoflow"],
  ["postgresql://leo:s3cret@[bad/leoflow", "postgresql://leo:***@[bad/leoflow"],
  ["postgres://leo:p@ss@db/leoflow", "postgres://leo:***@db/leoflow"],
  ["postgres://leo:pa/ss@db/leoflow", "postgres://leo:***@db/leoflow"],
  ["postgres://leo:pw@db/leoflow?application_name=a@b", "postgres://leo:***@db/leoflow?application_name=a@b"],
  ["postgres://:pw@db/leoflow", "postgres://:***@db/leoflow"],
  ["postgres://leo:pw@[::1]:5432/leoflow", "postgres://leo:***@[::1]:5432/leoflow"],
  ["postgres://leo:@db/leoflow", "postgres://leo:***@db/leoflow"],
  ["POSTGRES://leo:pw@db", "POSTGRES://leo:***@db"],
  // libpq's password and sslpassword query parameters, in any case and position.
  ["postgres://u:pw@h/db?password=zzz", "postgres://u:***@h/db?password=***"],
  ["postgres://u@h/db?sslmode=require&PASSWORD=zzz&x=1", "postgres://u@h/db?sslmode=require&PASSWORD=***&x=1"],
  ["postgres://u@h/db?sslpassword=k&password=&a=b#frag", "postgres://u@h/db?sslpassword=***&password=***&a=b#frag"],
  ["postgres://u@h/db?old_password_hint=1", "postgres://u@h/db?old_password_hint=1"],
  // Nothing to hide: unchanged.
  ["postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"],
  ["postgres://127.0.0.1:5432/test", "postgres://127.0.0.1:5432/test"],
  ["postgres://[::1]:5432/test?user=a@b", "postgres://[::1]:5432/test?user=a@b"],
  ["sqlite:data/leoflow.db", "sqlite:data/leoflow.db"],
  ["sqlite:///var/lib/leoflow.db", "sqlite:///var/lib/leoflow.db"],
  ["not a url", "not a url"],
])("redactUrl(%p) is %p", (url, shown) => {
  expect(redactUrl(url)).toBe(shown);
});
