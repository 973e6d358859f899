/**
 * Which company an event belongs to, as pure rules over what the batch has looked up: the company it names
 * (companyExternalId or its Amplitude group), else the one company whose domains hold the email's business domain,
 * else the user's primary company. A user without a company gets the one found, and a company named for a user with
 * a business email learns that domain.
 */

export interface CompanyLookups {
  /** The companies the batch's events name, by externalId: those that exist or were just created. */
  named: ReadonlyMap<string, number>;
  /** Per business domain, the one company that claims it, or null when several do. */
  byDomain: ReadonlyMap<string, number | null>;
}

export interface CompanyDecision {
  /** The activity's company. */
  companyId: number | null;
  /** The company to make the user's primary one, if it has none yet. */
  primary?: number;
  /** The named company learns the user's business domain. */
  learns?: string;
}

/** `domain`: the business domain of the event's email, or of the user's stored one. */
export function decideCompany(companyExternalId: string | undefined, domain: string | undefined, userCompanyId: number | null, lookups: CompanyLookups): CompanyDecision {
  if (companyExternalId !== undefined) {
    const named = lookups.named.get(companyExternalId);
    // Unknown and not to be created (autoCreateCompanies=false): the activity has no company and the user stays as it is.
    if (named === undefined) return { companyId: null };
    return { companyId: named, primary: named, ...(domain !== undefined && { learns: domain }) };
  }
  const byDomain = (domain !== undefined ? lookups.byDomain.get(domain) : undefined) ?? null;
  if (byDomain !== null) return { companyId: byDomain, primary: byDomain };
  return { companyId: userCompanyId };
}

/** Who claims a domain once `companyId` has learned it: that company alone, or nobody when another claimed it too. */
export function domainClaimantAfterLearning(claimant: number | null | undefined, companyId: number): number | null {
  return claimant === undefined || claimant === companyId ? companyId : null;
}
