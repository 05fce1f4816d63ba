const which = process.argv[2]!;
if (which !== 'none') await import(which);
const { loadEngineConfig, loadExchanges } = await import('../src/config/load.js');
const { Classifier } = await import('../src/classifier/classifier.js');
const { throughput } = await import('./bench/measure.js');
const config = loadEngineConfig('config'); const exchanges = loadExchanges('data');
const messages = exchanges.map((e) => `${e.client_input} ${e.therapist_response}`.padEnd(200, ' and that is how it feels').slice(0, 200));
const c = new Classifier(config.classification);
console.log(which.padEnd(12), Math.round(throughput((i) => c.classify(messages[i % messages.length]!), 1.5)));
