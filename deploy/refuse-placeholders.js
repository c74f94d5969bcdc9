/**
 * `npm run package:prod` packages with placeholder VPC, proxy and secret parameters so the template
 * can be built and tested offline. This refuses to deploy such a template: every placeholder must
 * be replaced with --param (DEPLOY.md lists them).
 */
class RefusePlaceholders {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:deploy:deploy': () => this.check() };
  }

  check() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const found = new Set(JSON.stringify(template).match(/[\w:/.-]*PLACEHOLDER[\w:/.-]*/g) || []);
    if (found.size > 0) {
      throw new this.serverless.classes.Error(
        `Refusing to deploy: placeholder parameters remain (${[...found].join(', ')}). Pass the real values with --param, see DEPLOY.md.`,
      );
    }
  }
}

module.exports = RefusePlaceholders;
