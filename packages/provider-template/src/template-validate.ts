import type { Post, ValidationIssue } from '@letmepost/core';
import type { TemplateOptions } from './template-options.js';

/**
 * The platform's own rules, beyond its declared capabilities (core checks those under the
 * canonical ids). Pure, no I/O; each issue has a stable `<id>.<area>.<rule>` id.
 */
export function validateTemplatePost(options: { post: Post; options: TemplateOptions }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  // An example of a rule capabilities cannot express: the platform refuses private posts with links.
  if (options.options.visibility === 'private' && options.post.link !== undefined) {
    issues.push({ rule: 'mastodon.link.private_visibility', field: 'link', message: 'A private post cannot carry a link on this platform.' });
  }
  return issues;
}
