/** Email domains anyone can sign up with: they say nothing about a person's company, so they never match one. */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'live.com', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'ymail.com', 'rocketmail.com', 'aol.com', 'icloud.com', 'me.com',
  'mac.com', 'proton.me', 'protonmail.com', 'pm.me', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 'mail.com', 'mail.ru',
  'yandex.com', 'yandex.ru', 'zoho.com', 'zohomail.com', 'fastmail.com', 'hey.com', 'tutanota.com', 'tuta.io',
  'qq.com', '163.com', '126.com', 'naver.com', 'daum.net', 'orange.fr', 'free.fr', 'laposte.net', 'libero.it',
  'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl', 't-online.de', 'btinternet.com', 'comcast.net', 'verizon.net',
  'att.net', 'sbcglobal.net', 'rediffmail.com',
]);

/** The domain of a business email, or undefined for a free-mail address or no email. */
export function businessDomain(email: string | null | undefined): string | undefined {
  const at = email ? email.indexOf('@') : -1;
  const domain = at < 0 ? undefined : (email as string).slice(at + 1).toLowerCase();
  if (!domain || FREE_MAIL_DOMAINS.has(domain)) return undefined;
  return domain;
}
