// Builds the JupyterLab 4 front end that tools/build_lab.sh puts in
// build/frontends/lab: index.js (generated from package.json's extension
// list) bundled with every @jupyterlab/* extension, plus the schemas and
// themes that jupyterlab_server serves. Run from build/frontends.
const data = require('./package.json');
const webpack = require('webpack');
const { Build } = require('@jupyterlab/builder');
const svgUri = require('mini-svg-data-uri');
const out = __dirname + '/lab';
// copies schemas/ and themes/ of every extension into lab/ and writes lab/style.js
const assets = Build.ensureAssets({ packageNames: data.jupyterlab.extensions, output: out });
module.exports = [{
  entry: ['./index.js'],
  output: { path: out, filename: 'bundle.js' },
  bail: true, mode: 'development', devtool: false,   // development: a third of the build time
  performance: { hints: false },
  module: { rules: [
    { test: /\.m?js$/, resolve: { fullySpecified: false } },   // ESM deps without extensions
    { test: /\.css$/, use: ['style-loader', 'css-loader'] },
    { test: /\.html$/, type: 'asset/resource' },
    { test: /\.md$/, type: 'asset/source' },
    { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
    { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
    { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
    { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.css$/, type: 'asset/inline',
      generator: { dataUrl: c => svgUri(c.toString()) } },
    { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' },
  ] },
  plugins: [new webpack.DefinePlugin({ process: { cwd: () => '/', env: {} } })],
}].concat(assets);
