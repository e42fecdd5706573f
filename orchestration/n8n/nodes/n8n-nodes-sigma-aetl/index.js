'use strict';
// n8n finds the node through package.json's "n8n.nodes" (as a package) or by its *.node.js file name
// (in a directory named by N8N_CUSTOM_EXTENSIONS); this entry point only serves plain require().
module.exports = require('./nodes/SigmaAetlKafkaTrigger/SigmaAetlKafkaTrigger.node.js');
