// Run once by the mongo-init service (mongosh): make the `mongo` container a single-node replica
// set rs0, then wait until it is a writable primary. Safe to run again: an initiated set is left
// alone. The member's host is the compose service name, which every client can resolve.
try {
  rs.status();
  print("replica set rs0 already initiated");
} catch (error) {
  if (error.codeName !== "NotYetInitialized") {
    throw error;
  }
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
  print("replica set rs0 initiated");
}
for (let waited = 0; waited < 60 && !db.hello().isWritablePrimary; waited++) {
  sleep(1000);
}
if (!db.hello().isWritablePrimary) {
  print("no writable primary after 60 s");
  quit(1);
}
print("rs0 primary ready");
