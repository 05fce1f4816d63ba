import 'ioredis';
import { Classifier, loadEngineConfig, loadExchanges } from '../src/index.js';
import { throughput } from './bench/measure.js';
const config = loadEngineConfig('config'); const exchanges = loadExchanges('data');
const messages = exchanges.map((e) => `${e.client_input} ${e.therapist_response}`.padEnd(200, ' and that is how it feels').slice(0, 200));
const c = new Classifier(config.classification);
console.log(Math.round(throughput((i) => c.classify(messages[i % messages.length]!), 4)));
