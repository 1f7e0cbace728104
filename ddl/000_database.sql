create database if not exists {{ database_q }} {{ on_cluster }}
