/**
 * HTTP-date (RFC 9110 section 5.6.7), pure and strict: the three forms and nothing else.
 * `Date.parse` reads anything that looks like a date ('99999', '2100-01-01', 'Mon Dec 07
 * 2099'), and a conditional request that trusts it answers 304 to garbage; section 13.1.3
 * says a value that is not a valid HTTP-date is ignored.
 *
 *   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
 *   rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT     (obsolete)
 *   asctime-date  Sun Nov  6 08:49:37 1994           (obsolete)
 *
 * HTTP-date is case-sensitive (section 5.6.7). The day name is checked for spelling, not
 * against the date (a mismatch says nothing about which part is wrong, and no common
 * server refuses it).
 */

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const DAY = `(${DAYS.join('|')})`;
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:${LONG_DAYS.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

/**
 * `value` as seconds since the epoch, or null when it is not one of the three forms or
 * names no real instant (31 Feb, 24:00:00). `nowS` resolves rfc850-date's two-digit year:
 * one that would be more than 50 years ahead is the last such year in the past (section 5.6.7).
 */
export function parseHttpDate(value: string, nowS: number = Date.now() / 1000): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) return instant(Number(m[4]), m[3]!, Number(m[2]), m[5]!, m[6]!, m[7]!);
  m = ASCTIME_DATE.exec(value);
  if (m !== null) return instant(Number(m[7]), m[2]!, Number(m[3]!.trim()), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(value);
  if (m !== null) {
    const thisYear = new Date(nowS * 1000).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    return instant(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  return null;
}

function instant(year: number, month: string, day: number, h: string, min: string, s: string): number | null {
  const mon = MONTHS.indexOf(month);
  const hour = Number(h);
  const minute = Number(min);
  // 60: a leap second (section 5.6.7 allows it); counted as the second before the next minute.
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 60 || day < 1) return null;
  // setUTCFullYear, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const d = new Date(0);
  d.setUTCFullYear(year, mon, day);
  // 31 Feb rolls over into March: not a real day.
  if (d.getUTCDate() !== day || d.getUTCMonth() !== mon) return null;
  return d.getTime() / 1000 + hour * 3600 + minute * 60 + Math.min(second, 59);
}
